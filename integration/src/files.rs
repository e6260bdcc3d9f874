//! Line files, the input and output of the file connectors and of many
//! end-to-end tests.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

/// Writes `lines`, each followed by `\n`, replacing the file.
pub fn write_lines<S: AsRef<str>>(path: &Path, lines: &[S]) {
    fs::write(path, joined(lines)).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// Appends `lines`, each followed by `\n`, in one write (creating the file).
pub fn append_lines<S: AsRef<str>>(path: &Path, lines: &[S]) {
    File::options()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(joined(lines).as_bytes()))
        .unwrap_or_else(|e| panic!("append to {}: {e}", path.display()));
}

/// The complete (newline-terminated) lines of a file; a missing file has
/// none, and a trailing partial line, still being written, is left out.
pub fn read_lines(path: &Path) -> Vec<String> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => panic!("read {}: {e}", path.display()),
    };
    let complete = text.rfind('\n').map_or("", |end| &text[..end]);
    if complete.is_empty() && !text.starts_with('\n') {
        return Vec::new();
    }
    complete.split('\n').map(str::to_owned).collect()
}

fn joined<S: AsRef<str>>(lines: &[S]) -> String {
    lines.iter().fold(String::new(), |mut out, l| {
        out.push_str(l.as_ref());
        out.push('\n');
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_lines_skips_a_partial_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.txt");
        assert_eq!(read_lines(&path), Vec::<String>::new());
        let cases: [(&str, &[&str]); 5] = [
            ("", &[]),
            ("partial", &[]),
            ("a\n", &["a"]),
            ("a\n\nb\nparti", &["a", "", "b"]),
            ("\n", &[""]),
        ];
        for (text, expected) in cases {
            fs::write(&path, text).unwrap();
            assert_eq!(read_lines(&path), expected, "file {text:?}");
        }
    }

    #[test]
    fn write_then_append() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.txt");
        write_lines(&path, &["one", "two"]);
        append_lines(&path, &["three".to_owned()]);
        assert_eq!(fs::read_to_string(&path).unwrap(), "one\ntwo\nthree\n");
    }
}
