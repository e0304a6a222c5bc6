//! The smallest `.npy` reader and writer the bundle needs: float32, little-endian, C order
//! (format versions 1.0 and 2.0 read, 1.0 written). Golden inputs and outputs are stored this
//! way so they open in numpy too. The reader treats its bytes as untrusted.

use std::path::Path;

const MAGIC: &[u8] = b"\x93NUMPY";
/// Header lengths beyond this are refused: a real float32 header is under 128 bytes.
const MAX_HEADER: usize = 4096;

/// A float32 array: its shape and row-major values.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// A `.npy` file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum NpyError {
    #[error("{path}: not a float32 .npy file: {problem}")]
    Format { path: String, problem: String },
    #[error("{path}: {reason}")]
    Io {
        path: String,
        reason: std::io::Error,
    },
}

impl NpyArray {
    pub fn new(shape: Vec<usize>, data: Vec<f32>) -> Result<Self, NpyError> {
        let need: usize = shape.iter().product();
        if need != data.len() {
            return Err(NpyError::Format {
                path: "<memory>".into(),
                problem: format!("shape {shape:?} needs {need} values, got {}", data.len()),
            });
        }
        Ok(Self { shape, data })
    }

    /// The bytes of a version 1.0 `.npy` file.
    pub fn to_bytes(&self) -> Vec<u8> {
        let dims: Vec<String> = self.shape.iter().map(usize::to_string).collect();
        let shape = match dims.len() {
            1 => format!("({},)", dims[0]),
            _ => format!("({})", dims.join(", ")),
        };
        let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}");
        // Magic (6) + version (2) + length (2) + header + '\n' is padded to 64 bytes.
        let unpadded = MAGIC.len() + 4 + header.len() + 1;
        header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
        header.push('\n');
        let mut out = Vec::with_capacity(MAGIC.len() + 4 + header.len() + 4 * self.data.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        for v in &self.data {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }

    /// Parses `.npy` bytes; `path` only names the source in errors.
    pub fn from_bytes(bytes: &[u8], path: &str) -> Result<Self, NpyError> {
        let fail = |problem: String| NpyError::Format {
            path: path.to_string(),
            problem,
        };
        if bytes.len() < MAGIC.len() + 4 || &bytes[..MAGIC.len()] != MAGIC {
            return Err(fail("missing the \\x93NUMPY magic".into()));
        }
        let (len, start) = match bytes[6] {
            1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
            2 | 3 if bytes.len() >= 12 => (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            ),
            v => return Err(fail(format!("unsupported format version {v}"))),
        };
        if len > MAX_HEADER || bytes.len() < start + len {
            return Err(fail(format!("header length {len} is out of range")));
        }
        let header = std::str::from_utf8(&bytes[start..start + len])
            .map_err(|_| fail("header is not text".into()))?;
        let descr = dict_value(header, "descr").ok_or_else(|| fail("no 'descr'".into()))?;
        if descr.trim_matches(|c| c == '\'' || c == '"') != "<f4" {
            return Err(fail(format!("dtype {descr} (only '<f4' is supported)")));
        }
        let fortran =
            dict_value(header, "fortran_order").ok_or_else(|| fail("no 'fortran_order'".into()))?;
        if fortran != "False" {
            return Err(fail("Fortran order is not supported".into()));
        }
        let shape_text = dict_value(header, "shape").ok_or_else(|| fail("no 'shape'".into()))?;
        let shape =
            parse_shape(shape_text).ok_or_else(|| fail(format!("bad shape {shape_text}")))?;
        let count = shape
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| fail(format!("shape {shape:?} is too large")))?;
        let body = &bytes[start + len..];
        if Some(body.len()) != count.checked_mul(4) {
            return Err(fail(format!(
                "shape {shape:?} needs {count} floats, the file holds {} bytes of data",
                body.len()
            )));
        }
        let data = body
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        Ok(Self { shape, data })
    }

    /// Reads a `.npy` file.
    pub fn read(path: &Path) -> Result<Self, NpyError> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|reason| NpyError::Io {
            path: name.clone(),
            reason,
        })?;
        Self::from_bytes(&bytes, &name)
    }
}

/// The raw text of `key`'s value in a numpy header dict (up to the next top-level comma).
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let quoted = [format!("'{key}'"), format!("\"{key}\"")];
    let at = quoted
        .iter()
        .find_map(|q| header.find(q.as_str()).map(|i| i + q.len()))?;
    let rest = header[at..].trim_start().strip_prefix(':')?.trim_start();
    let end = if rest.starts_with('(') {
        rest.find(')')? + 1
    } else {
        rest.find([',', '}'])?
    };
    Some(rest[..end].trim())
}

fn parse_shape(text: &str) -> Option<Vec<usize>> {
    let inner = text.strip_prefix('(')?.strip_suffix(')')?;
    inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_aligns_the_header() {
        for shape in [vec![3], vec![2, 5], vec![1, 3, 4, 4], vec![]] {
            let n: usize = shape.iter().product();
            let a = NpyArray::new(
                shape.clone(),
                (0..n).map(|i| i as f32 * 0.5 - 1.0).collect(),
            )
            .unwrap();
            let bytes = a.to_bytes();
            assert_eq!((bytes.len() - 4 * n) % 64, 0, "{shape:?}");
            assert_eq!(NpyArray::from_bytes(&bytes, "t").unwrap(), a);
        }
    }

    #[test]
    fn reads_a_numpy_written_header() {
        // What `np.save` writes for np.zeros((2, 3), np.float32), body replaced.
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        let padded = format!("{header:<117}\n");
        bytes.extend_from_slice(&(padded.len() as u16).to_le_bytes());
        bytes.extend_from_slice(padded.as_bytes());
        for i in 0..6 {
            bytes.extend_from_slice(&(i as f32).to_le_bytes());
        }
        let a = NpyArray::from_bytes(&bytes, "t").unwrap();
        assert_eq!(a.shape, vec![2, 3]);
        assert_eq!(a.data, vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    }

    #[test]
    fn refuses_other_dtypes_orders_and_truncation() {
        let good = NpyArray::new(vec![2, 2], vec![1.0; 4]).unwrap().to_bytes();
        let text = String::from_utf8_lossy(&good).into_owned();
        for (from, to) in [("<f4", "<f8"), ("False", "True")] {
            let bad = text.replacen(from, to, 1);
            assert!(NpyArray::from_bytes(bad.as_bytes(), "t").is_err(), "{to}");
        }
        assert!(NpyArray::from_bytes(&good[..good.len() - 1], "t").is_err());
        assert!(NpyArray::from_bytes(b"\x93NUMPY", "t").is_err());
        assert!(NpyArray::from_bytes(b"", "t").is_err());
        let err = NpyArray::from_bytes(b"junkjunkjunk", "golden.npy").unwrap_err();
        assert!(err.to_string().contains("golden.npy"), "{err}");
    }
}
