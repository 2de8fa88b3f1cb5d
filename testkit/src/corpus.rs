//! Finding a corpus's files.

use std::path::{Path, PathBuf};

/// Every `*.json` file under `root` (or `root` itself, when it is a file), recursively,
/// sorted. Symbolic links are not followed, so a link to a parent directory cannot loop.
pub fn json_files(root: &Path) -> Result<Vec<PathBuf>, walkdir::Error> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
        let entry = entry?;
        let explicit = entry.depth() == 0;
        if entry.file_type().is_file() && (explicit || entry.path().extension().is_some_and(|e| e == "json"))
        {
            out.push(entry.into_path());
        }
    }
    Ok(out)
}

/// A file's path relative to `root`, without `.json`, for naming a test case.
pub fn case_name(root: &Path, file: &Path) -> String {
    file.strip_prefix(root).unwrap_or(file).with_extension("").display().to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_link_to_a_parent_directory_does_not_loop() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-scratch/corpus-loop");
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("a.json"), "{}").unwrap();
        std::fs::write(root.join("sub/b.json"), "{}").unwrap();
        std::fs::write(root.join("sub/notes.txt"), "").unwrap();
        std::os::unix::fs::symlink("..", root.join("sub/up")).unwrap();
        let found = json_files(&root).unwrap();
        let names: Vec<String> = found.iter().map(|f| case_name(&root, f)).collect();
        assert_eq!(names, ["a", "sub/b"]);
        // A file named on its own is taken whatever its name.
        assert_eq!(json_files(&root.join("sub/notes.txt")).unwrap().len(), 1);
    }
}
