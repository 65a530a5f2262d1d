//! Reading a glTF file as hostile input: the GLB container (split here, with every length
//! checked), the version, the JSON (parsed and validated by the `gltf` crate), buffers from
//! the GLB binary chunk or `data:` URIs, and bounds-checked accessor reads. Everything is
//! looked up with `get`, so a bad index is an error, never a panic.

use base64::Engine;
use gltf::json::accessor::{ComponentType, GenericComponentType, Type};
use gltf::json::validation::Checked;
use gltf::json::Root;
use serde::Deserialize;

use super::{ImportError, MAX_NODES};

/// Vertices read over one import, all meshes together (guards against a small file whose
/// many meshes all point at one large accessor).
pub(super) const MAX_VERTICES: u64 = 20_000_000;

/// A parsed, validated glTF document and its buffers.
pub(super) struct Source {
    pub root: Root,
    buffers: Vec<Result<Vec<u8>, ImportError>>,
    vertices_read: u64,
}

#[derive(Deserialize)]
struct Probe {
    asset: Option<ProbeAsset>,
}

#[derive(Deserialize)]
struct ProbeAsset {
    version: Option<String>,
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// The JSON and BIN chunks of a .glb file.
fn split_glb(bytes: &[u8]) -> Result<(&[u8], Option<&[u8]>), ImportError> {
    let truncated = |what: &str| ImportError::NotGltf(format!("truncated .glb file ({what})"));
    let version = u32_at(bytes, 4).ok_or_else(|| truncated("header"))?;
    if version != 2 {
        return Err(ImportError::UnsupportedVersion(version.to_string()));
    }
    let length = u32_at(bytes, 8).ok_or_else(|| truncated("header"))? as usize;
    if length < 12 || length > bytes.len() {
        return Err(ImportError::NotGltf(format!("the .glb header says {length} bytes, the file has {}", bytes.len())));
    }
    let mut rest = &bytes[12..length];
    let mut json = None;
    let mut bin = None;
    while !rest.is_empty() {
        let len = u32_at(rest, 0).ok_or_else(|| truncated("chunk header"))? as usize;
        let kind = rest.get(4..8).ok_or_else(|| truncated("chunk header"))?;
        let data = rest.get(8..8usize.saturating_add(len)).ok_or_else(|| truncated("chunk"))?;
        match (kind, json.is_some()) {
            (b"JSON", false) => json = Some(data),
            (_, false) => return Err(ImportError::NotGltf("the first .glb chunk is not JSON".into())),
            (b"BIN\0", true) if bin.is_none() => bin = Some(data),
            _ => {} // Unknown chunks are skipped, as the spec says.
        }
        rest = rest.get(8 + len..).unwrap_or_default();
    }
    Ok((json.ok_or_else(|| truncated("no JSON chunk"))?, bin))
}

fn decode_data_uri(uri: &str) -> Result<Vec<u8>, String> {
    let Some(rest) = uri.strip_prefix("data:") else {
        return Err(format!("refers to an external file {uri:?}; only .glb files and embedded data: URIs can be imported"));
    };
    let (_, data) = rest.split_once(";base64,").ok_or("data: URI is not base64")?;
    base64::engine::general_purpose::STANDARD.decode(data.trim()).map_err(|e| format!("bad base64: {e}"))
}

impl Source {
    pub fn parse(bytes: &[u8]) -> Result<Self, ImportError> {
        let (json, bin) = if bytes.starts_with(b"glTF") {
            split_glb(bytes)?
        } else if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
            (bytes, None)
        } else {
            return Err(ImportError::NotGltf("neither a .glb file nor JSON".into()));
        };
        let probe: Probe = serde_json::from_slice(json).map_err(|e| ImportError::NotGltf(format!("bad JSON: {e}")))?;
        let version = probe.asset.ok_or_else(|| ImportError::NotGltf("no \"asset\" object".into()))?.version.unwrap_or_default();
        if version.split('.').next() != Some("2") {
            return Err(ImportError::UnsupportedVersion(version));
        }
        let root: Root = gltf::json::deserialize::from_slice(json).map_err(|e| ImportError::Invalid(e.to_string()))?;
        if root.nodes.len() > MAX_NODES {
            return Err(ImportError::TooMany { what: "nodes", count: root.nodes.len() as u64, limit: MAX_NODES as u64 });
        }
        // gltf-json 1.4.1's validation indexes `accessors` with each POSITION index without
        // checking it (a panic on a bad index), so those indices are checked here first.
        for (m, mesh) in root.meshes.iter().enumerate() {
            for a in mesh.primitives.iter().flat_map(|p| p.attributes.values()) {
                if a.value() >= root.accessors.len() {
                    return Err(ImportError::Invalid(format!("mesh {m} uses accessor {}, which does not exist", a.value())));
                }
            }
        }
        let root = gltf::Document::from_json(root).map_err(invalid)?.into_json();
        let buffers = root
            .buffers
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let data = match &b.uri {
                    None if i == 0 => bin.map(<[u8]>::to_vec).ok_or_else(|| "the .glb binary chunk is missing".to_owned()),
                    None => Err("has no data (only buffer 0 may use the .glb binary chunk)".to_owned()),
                    Some(uri) => decode_data_uri(uri),
                };
                let data = data.map_err(|reason| ImportError::Buffer { buffer: i, reason })?;
                if (data.len() as u64) < b.byte_length.0 {
                    let reason = format!("declares {} bytes but holds {}", b.byte_length.0, data.len());
                    return Err(ImportError::Buffer { buffer: i, reason });
                }
                Ok(data)
            })
            .collect();
        Ok(Source { root, buffers, vertices_read: 0 })
    }

    /// The bytes of buffer view `view` and its stride (if set).
    fn view(&self, view: usize) -> Result<(&[u8], Option<usize>), ImportError> {
        let v = self.root.buffer_views.get(view).ok_or_else(|| ImportError::Invalid(format!("no buffer view {view}")))?;
        let buffer = v.buffer.value();
        let data = match self.buffers.get(buffer) {
            Some(Ok(data)) => data,
            Some(Err(e)) => return Err(e.clone()),
            None => return Err(ImportError::Invalid(format!("no buffer {buffer}"))),
        };
        let start = v.byte_offset.map_or(0, |o| o.0);
        let end = start.saturating_add(v.byte_length.0);
        let bytes = usize::try_from(start)
            .ok()
            .zip(usize::try_from(end).ok())
            .and_then(|(s, e)| data.get(s..e))
            .ok_or(ImportError::BufferOutOfRange { view, buffer, end, len: data.len() })?;
        Ok((bytes, v.byte_stride.map(|s| s.0)))
    }

    /// The elements of accessor `index`, each `size` bytes, checked against its view.
    fn elements(&mut self, index: usize, size: usize) -> Result<Option<Vec<&[u8]>>, ImportError> {
        let a = self.root.accessors.get(index).ok_or_else(|| ImportError::Invalid(format!("no accessor {index}")))?;
        let (Some(view), None) = (a.buffer_view, &a.sparse) else { return Ok(None) };
        let (count, offset) = (a.count.0, a.byte_offset.map_or(0, |o| o.0));
        self.vertices_read = self.vertices_read.saturating_add(count);
        if self.vertices_read > MAX_VERTICES {
            return Err(ImportError::TooMany { what: "vertices", count: self.vertices_read, limit: MAX_VERTICES });
        }
        let (bytes, stride) = self.view(view.value())?;
        let stride = stride.unwrap_or(size).max(size) as u64;
        let needed = if count == 0 { 0 } else { offset.saturating_add(stride.saturating_mul(count - 1)).saturating_add(size as u64) };
        if needed > bytes.len() as u64 {
            return Err(ImportError::AccessorOutOfBounds { accessor: index, needed, available: bytes.len() });
        }
        // In range: needed <= bytes.len(), so every element lies inside `bytes`.
        let items = (0..count).filter_map(|i| {
            let at = (offset + stride * i) as usize;
            bytes.get(at..at + size)
        });
        Ok(Some(items.collect()))
    }

    /// The float vectors of `N` components in accessor `index`; `None` if it is not plain
    /// float data of that width in a buffer view. Non-finite values are an error.
    pub fn floats<const N: usize>(&mut self, index: usize) -> Result<Option<Vec<[f32; N]>>, ImportError> {
        let a = self.root.accessors.get(index).ok_or_else(|| ImportError::Invalid(format!("no accessor {index}")))?;
        let width = match &a.type_ {
            Checked::Valid(Type::Vec2) => 2,
            Checked::Valid(Type::Vec3) => 3,
            Checked::Valid(Type::Vec4) => 4,
            _ => 0,
        };
        if width != N || !matches!(&a.component_type, Checked::Valid(GenericComponentType(ComponentType::F32))) {
            return Ok(None);
        }
        let Some(items) = self.elements(index, 4 * N)? else { return Ok(None) };
        let out: Vec<[f32; N]> = items
            .iter()
            .map(|b| std::array::from_fn(|k| b.get(4 * k..4 * k + 4).map_or(f32::NAN, |b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))))
            .collect();
        if out.iter().flatten().any(|v| !v.is_finite()) {
            return Err(ImportError::NonFiniteData { accessor: index });
        }
        Ok(Some(out))
    }

    /// The vertex indices in accessor `index`, each checked to name one of `vertices`.
    pub fn indices(&mut self, index: usize, vertices: usize) -> Result<Vec<u32>, ImportError> {
        let a = self.root.accessors.get(index).ok_or_else(|| ImportError::Invalid(format!("no accessor {index}")))?;
        let size = match &a.component_type {
            Checked::Valid(GenericComponentType(ComponentType::U8)) => 1,
            Checked::Valid(GenericComponentType(ComponentType::U16)) => 2,
            Checked::Valid(GenericComponentType(ComponentType::U32)) => 4,
            _ => return Err(ImportError::Invalid(format!("accessor {index}: indices must be unsigned integers"))),
        };
        let Some(items) = self.elements(index, size)? else {
            return Err(ImportError::Invalid(format!("accessor {index}: indices must be in a buffer view")));
        };
        let mut out = Vec::with_capacity(items.len());
        for b in items {
            let value = match *b {
                [x] => u32::from(x),
                [x, y] => u32::from(u16::from_le_bytes([x, y])),
                [x, y, z, w] => u32::from_le_bytes([x, y, z, w]),
                _ => continue,
            };
            if value as usize >= vertices {
                return Err(ImportError::IndexOutOfRange { accessor: index, index: value, vertices });
            }
            out.push(value);
        }
        Ok(out)
    }

    /// Checks that every index in accessor `index` names one of `vertices` vertices.
    pub fn check_indices(&mut self, index: usize, vertices: usize) -> Result<(), ImportError> {
        let a = self.root.accessors.get(index).ok_or_else(|| ImportError::Invalid(format!("no accessor {index}")))?;
        let size = match &a.component_type {
            Checked::Valid(GenericComponentType(ComponentType::U8)) => 1,
            Checked::Valid(GenericComponentType(ComponentType::U16)) => 2,
            Checked::Valid(GenericComponentType(ComponentType::U32)) => 4,
            _ => return Err(ImportError::Invalid(format!("accessor {index}: indices must be unsigned integers"))),
        };
        let Some(items) = self.elements(index, size)? else { return Ok(()) };
        for b in items {
            let value = match *b {
                [x] => u32::from(x),
                [x, y] => u32::from(u16::from_le_bytes([x, y])),
                [x, y, z, w] => u32::from_le_bytes([x, y, z, w]),
                _ => continue,
            };
            if value as usize >= vertices {
                return Err(ImportError::IndexOutOfRange { accessor: index, index: value, vertices });
            }
        }
        Ok(())
    }
}

fn invalid(e: gltf::Error) -> ImportError {
    match e {
        gltf::Error::Validation(errors) => {
            let shown: Vec<String> = errors.iter().take(3).map(|(path, err)| format!("{path}: {err}")).collect();
            let more = errors.len().saturating_sub(3);
            let tail = if more > 0 { format!(" (and {more} more)") } else { String::new() };
            ImportError::Invalid(format!("{}{tail}", shown.join("; ")))
        }
        other => ImportError::Invalid(other.to_string()),
    }
}
