//! Why a file could not be read, imported, opened or produced.

use std::fmt;

#[derive(Debug)]
pub enum FileError {
    /// The browser could not read the chosen file.
    Read(String),
    /// The glTF file was refused (the tools worker says why).
    Import(String),
    /// The scene JSON was refused.
    Json(String),
    /// The scene could not be written as glTF or JSON.
    Export(String),
    /// The tools worker could not be started or answered nonsense.
    Worker(String),
    /// A browser call failed (Blob, URL, canvas).
    Browser(String),
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileError::Read(e) => write!(f, "cannot read the file: {e}"),
            FileError::Import(e) => write!(f, "cannot import the glTF file: {e}"),
            FileError::Json(e) => write!(f, "cannot open the scene JSON: {e}"),
            FileError::Export(e) => write!(f, "cannot export the scene: {e}"),
            FileError::Browser(e) => write!(f, "the browser refused: {e}"),
            FileError::Worker(e) => write!(f, "the file tools could not run: {e}"),
        }
    }
}

impl std::error::Error for FileError {}

/// A JavaScript exception as text.
pub fn js_text(value: wasm_bindgen::JsValue) -> String {
    use wasm_bindgen::JsCast;
    value.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_else(|| format!("{value:?}"))
}
