//! Outfit suggestions for one wardrobe: the stylist's models, the encoded wardrobe graph and
//! the owner's feedback, kept together so a new garment or verdict is folded in at once.

use super::StylistError;
use super::cache::{EncodedWardrobe, Refresh};
use super::engine::StylistModels;
use super::graph::WardrobeGraph;
use super::scorer::{Anchor, PoolScores};
use crate::suggest::{Outfit, WithFeedback, suggest};
use crate::wardrobe::{Garment, GarmentId, GarmentStatus, OutfitEdge};
use std::collections::HashSet;

/// Garments of each type the outfit search considers (the best by their score with the
/// anchor): enough for variety, few enough that the search is table lookups.
pub const POOL_PER_TYPE: usize = 12;

/// The stylist over one wardrobe.
pub struct Suggester {
    models: StylistModels,
    encoded: EncodedWardrobe,
    garments: Vec<Garment>,
    edges: Vec<OutfitEdge>,
}

impl Suggester {
    /// Encodes the wardrobe graph of `garments` and `edges`.
    pub fn new(
        models: StylistModels,
        garments: Vec<Garment>,
        edges: Vec<OutfitEdge>,
    ) -> Result<Self, StylistError> {
        let graph = WardrobeGraph::new(&garments, &edges, models.node_features())?;
        let encoded = EncodedWardrobe::encode(&models, graph)?;
        Ok(Self {
            models,
            encoded,
            garments,
            edges,
        })
    }

    pub fn garments(&self) -> &[Garment] {
        &self.garments
    }

    pub fn garment(&self, id: GarmentId) -> Option<&Garment> {
        self.garments.iter().find(|g| g.id == id)
    }

    pub fn encoded(&self) -> &EncodedWardrobe {
        &self.encoded
    }

    /// Up to `k` outfits around `anchor`, best first.
    pub fn suggest(&self, anchor: &Anchor, k: usize) -> Result<Vec<Outfit>, StylistError> {
        let pool = PoolScores::around(
            &self.models,
            &self.encoded,
            anchor,
            &self.garments,
            POOL_PER_TYPE,
        )?;
        // Only the owner's word on pairs inside the pool can matter.
        let members: HashSet<GarmentId> = pool.pool.iter().map(|g| g.id).collect();
        let feedback: Vec<OutfitEdge> = self
            .edges
            .iter()
            .filter(|e| members.contains(&e.a) && members.contains(&e.b))
            .copied()
            .collect();
        let scorer = WithFeedback::new(&pool, &feedback);
        Ok(suggest(anchor.garment(), &pool.pool, &scorer, k))
    }

    /// Folds in new edges (feedback, outfits worn): the latest word on a pair wins, and only
    /// the node embeddings the change can reach are recomputed.
    pub fn add_edges(&mut self, edges: &[OutfitEdge]) -> Result<Refresh, StylistError> {
        let mut changed = Vec::new();
        for e in edges {
            self.edges.retain(|old| (old.a, old.b) != (e.a, e.b));
            self.edges.push(*e);
            changed.extend([e.a, e.b]);
        }
        self.refresh(&changed)
    }

    /// Adds a garment (with its edges, if any, through [`Suggester::add_edges`]).
    pub fn add_garment(&mut self, garment: Garment) -> Result<Refresh, StylistError> {
        let id = garment.id;
        self.garments.retain(|g| g.id != id);
        self.garments.push(garment);
        self.refresh(&[id])
    }

    /// Changes a garment's status (laundry and stored garments are left out of outfits); the
    /// graph is unchanged, so nothing is re-encoded.
    pub fn set_status(&mut self, id: GarmentId, status: GarmentStatus) -> bool {
        self.edit(id, |g| g.status = status)
    }

    /// Renames a garment; names are not model input, so nothing is re-encoded.
    pub fn rename(&mut self, id: GarmentId, name: &str) -> bool {
        self.edit(id, |g| g.name = name.to_string())
    }

    /// Changes what the graph does not read (status, name) of garment `id`; false when
    /// there is no such garment.
    fn edit(&mut self, id: GarmentId, change: impl FnOnce(&mut Garment)) -> bool {
        match self.garments.iter_mut().find(|g| g.id == id) {
            Some(g) => {
                change(g);
                true
            }
            None => false,
        }
    }

    /// Drops a garment and its edges, and encodes the wardrobe again (removal changes every
    /// neighbour list it was in; it is rare enough not to need the incremental path).
    pub fn remove_garment(&mut self, id: GarmentId) -> Result<(), StylistError> {
        self.garments.retain(|g| g.id != id);
        self.edges.retain(|e| e.a != id && e.b != id);
        let graph = WardrobeGraph::new(&self.garments, &self.edges, self.models.node_features())?;
        self.encoded = EncodedWardrobe::encode(&self.models, graph)?;
        Ok(())
    }

    fn refresh(&mut self, changed: &[GarmentId]) -> Result<Refresh, StylistError> {
        let graph = WardrobeGraph::new(&self.garments, &self.edges, self.models.node_features())?;
        self.encoded.refresh(&self.models, graph, changed)
    }
}
