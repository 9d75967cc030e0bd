//! The one vector-file format of the project and its parser.

extern crate std;

use std::vec;

use std::string::String;
use std::vec::Vec;

use super::unhex;

/// One `[name]` section of a vector file: `key = value` lines.
#[derive(Debug, Clone, Default)]
pub struct Section {
    /// The name between the brackets ("" for lines before any header).
    pub name: String,
    fields: Vec<(String, String)>,
}

impl Section {
    /// The text of `key`; panics naming the section and key if absent.
    pub fn get(&self, key: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("vector [{}] has no {key}", self.name))
    }

    /// `key` decoded from hex.
    pub fn bytes(&self, key: &str) -> Vec<u8> {
        unhex(self.get(key))
    }

    /// `key` decoded from hex into a fixed-size array.
    pub fn array<const N: usize>(&self, key: &str) -> [u8; N] {
        self.bytes(key).try_into().unwrap_or_else(|v: Vec<u8>| {
            panic!("[{}] {key}: {} bytes, not {N}", self.name, v.len())
        })
    }
}

/// Parses the one vector-file format of the project: `#` comments,
/// `[section]` headers and `key = value` lines (values usually hex). Every
/// vector file sits beside the independent script that wrote it.
pub fn vectors(text: &str) -> Vec<Section> {
    let mut out = vec![Section::default()];
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            out.push(Section {
                name: name.into(),
                fields: Vec::new(),
            });
        } else {
            let (k, v) = line
                .split_once('=')
                .unwrap_or_else(|| panic!("vector line without '=': {line:?}"));
            if let Some(last) = out.last_mut() {
                last.fields.push((k.trim().into(), v.trim().into()));
            }
        }
    }
    out.retain(|s| !(s.name.is_empty() && s.fields.is_empty()));
    out
}

/// The section called `name`; panics if there is none.
pub fn section<'a>(sections: &'a [Section], name: &str) -> &'a Section {
    sections
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no vector section [{name}]"))
}

/// Every section whose name starts with `prefix` (e.g. `tee` for
/// `[tee-1]`, `[tee-2]`).
pub fn sections_with<'a>(sections: &'a [Section], prefix: &str) -> Vec<&'a Section> {
    sections
        .iter()
        .filter(|s| s.name.starts_with(prefix))
        .collect()
}
