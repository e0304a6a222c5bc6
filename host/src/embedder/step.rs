//! One optimisation step, on one device or data-parallel over several.
//!
//! Data-parallel uses burn's own multi-device support: the model is forked to every device,
//! each replica embeds a contiguous shard of the batch, the embeddings are gathered on the
//! first device (a `to_device` that autodiff carries back), and the loss is computed over the
//! whole batch, so MSML still mines its hardest pairs across all shards. Backward then gives
//! each replica the gradient of its shard; `MultiGradientsParams` sums them per parameter on
//! that parameter's device and `step_multi` applies Adam. Batch norms see their own shard's
//! statistics (as in any data-parallel training without synchronised batch norm).

use super::config::TrainConfig;
use super::model::Embedder;
use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer, MultiGradientsParams};
use burn::prelude::*;

/// The devices a run trains on (with gradients recorded); the first gathers and holds the loss.
pub struct Devices(pub Vec<Device>);

impl Devices {
    pub fn first(&self) -> &Device {
        &self.0[0]
    }
}

/// What a batch holds: preprocessed pictures for the whole network, or a frozen
/// backbone's stored features for the layers above it. Either way row-major NCHW.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepInput {
    Pictures { channels: usize, side: usize },
    Features { channels: usize, side: usize },
}

impl StepInput {
    fn shape(self, count: usize) -> [usize; 4] {
        let (Self::Pictures { channels, side } | Self::Features { channels, side }) = self;
        [count, channels, side, side]
    }

    fn embed(self, model: &Embedder, x: Tensor<4>) -> Tensor<2> {
        match self {
            Self::Pictures { .. } => model.forward(x),
            Self::Features { .. } => model.embed_features(x),
        }
    }
}

/// One step over a batch of `values` (laid out as `input` says, `labels.len()` rows).
/// Returns the updated model and the loss before the step.
pub fn train_step(
    model: Embedder,
    optimizer: &mut ModuleOptimizer,
    devices: &Devices,
    config: &TrainConfig,
    (input, values): (StepInput, Vec<f32>),
    labels: &[u32],
) -> (Embedder, f64) {
    let loss_of = |embeddings| {
        config
            .loss
            .compute(embeddings, labels, config.margin, config.temperature)
    };
    let tensor = |values: Vec<f32>, count: usize, device: &Device| {
        Tensor::<4>::from_data(TensorData::new(values, input.shape(count)), device)
    };
    if devices.0.len() == 1 {
        let x = tensor(values, labels.len(), devices.first());
        let loss = loss_of(input.embed(&model, x));
        let value = loss.clone().into_scalar::<f32>() as f64;
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        return (optimizer.step(config.learning_rate, model, grads), value);
    }

    let len = input.shape(1).iter().product::<usize>();
    let shards = shard_sizes(labels.len(), devices.0.len());
    let mut replicas = Vec::with_capacity(shards.len());
    let mut embeddings = Vec::with_capacity(shards.len());
    let mut start = 0;
    for (device, &size) in devices.0.iter().zip(&shards) {
        if size == 0 {
            continue;
        }
        let replica = model.clone().fork(device);
        let x = tensor(
            values[start * len..(start + size) * len].to_vec(),
            size,
            device,
        );
        embeddings.push(input.embed(&replica, x).to_device(devices.first()));
        replicas.push((replica, device.clone()));
        start += size;
    }
    let loss = loss_of(Tensor::cat(embeddings, 0));
    let value = loss.clone().into_scalar::<f32>() as f64;
    let mut grads = loss.backward();
    let per_device = MultiGradientsParams {
        grads: replicas
            .iter()
            .map(|(replica, device)| {
                (
                    GradientsParams::from_module(&mut grads, replica),
                    device.clone(),
                )
            })
            .collect(),
    };
    (
        optimizer.step_multi(config.learning_rate, model, per_device),
        value,
    )
}

/// `total` pictures split into `parts` contiguous shards, as even as they go (larger first).
pub fn shard_sizes(total: usize, parts: usize) -> Vec<usize> {
    let parts = parts.max(1);
    (0..parts)
        .map(|i| total / parts + usize::from(i < total % parts))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_the_batch_evenly() {
        assert_eq!(shard_sizes(8, 2), vec![4, 4]);
        assert_eq!(shard_sizes(7, 3), vec![3, 2, 2]);
        assert_eq!(shard_sizes(1, 2), vec![1, 0]);
        assert_eq!(shard_sizes(5, 0), vec![5]);
    }
}
