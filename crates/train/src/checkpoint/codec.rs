//! Named f32 tensors to and from `safetensors` bytes, on the host.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use wgtrain_tensor::Tensor;

use super::files::bad;
use crate::error::Result;

/// Named host tensors: `name -> (shape, values)`.
pub(crate) type HostTensors = HashMap<String, (Vec<usize>, Vec<f32>)>;

/// Reads device tensors back (one read-back each) into host tensors; `path` names the file
/// they are for, in errors.
pub(crate) fn to_host(tensors: &[(String, Tensor)], path: &Path) -> Result<HostTensors> {
    let mut host = HostTensors::new();
    for (name, t) in tensors {
        if host.insert(name.clone(), (t.shape().to_vec(), t.to_vec::<f32>()?)).is_some() {
            return Err(bad(path, format!("two tensors are named {name:?}")));
        }
    }
    Ok(host)
}

/// Serializes host tensors (sorted by name, so equal content gives equal bytes).
pub(crate) fn encode(host: &HostTensors, path: &Path) -> Result<Vec<u8>> {
    let bytes: BTreeMap<&str, (Vec<usize>, Vec<u8>)> = host
        .iter()
        .map(|(name, (shape, values))| {
            (name.as_str(), (shape.clone(), values.iter().flat_map(|x| x.to_le_bytes()).collect()))
        })
        .collect();
    let views = bytes
        .iter()
        .map(|(name, (shape, b))| {
            Ok((*name, TensorView::new(Dtype::F32, shape.clone(), b).map_err(|e| bad(path, e.to_string()))?))
        })
        .collect::<Result<Vec<_>>>()?;
    safetensors::serialize(views, None).map_err(|e| bad(path, e.to_string()))
}

/// Parses safetensors bytes into host tensors, f32 only.
pub(crate) fn decode(bytes: &[u8], path: &Path) -> Result<HostTensors> {
    let st = SafeTensors::deserialize(bytes)
        .map_err(|e| bad(path, format!("not a readable safetensors file (truncated or corrupt?): {e}")))?;
    let mut out = HashMap::new();
    for (name, view) in st.tensors() {
        if view.dtype() != Dtype::F32 {
            return Err(bad(path, format!("tensor {name:?} has dtype {:?}, expected F32", view.dtype())));
        }
        let values = view.data().chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        out.insert(name, (view.shape().to_vec(), values));
    }
    Ok(out)
}

/// Reads and parses a safetensors file.
pub(crate) fn read_file(path: &Path) -> Result<HostTensors> {
    let bytes = std::fs::read(path).map_err(|e| super::files::io(path, e))?;
    decode(&bytes, path)
}
