// The built-in catalog is embedded from `rules/` (include_dir); rebuild when it changes.
fn main() {
    println!("cargo:rerun-if-changed=rules");
}
