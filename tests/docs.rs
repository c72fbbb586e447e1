//! The documents that tools write: the benchmark table in docs/BENCHMARKS.md is
//! the benchmark's standard output, never mixed with log lines.

use std::path::Path;

#[test]
fn the_benchmark_table_holds_only_table_rows() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/BENCHMARKS.md"))
            .expect("docs/BENCHMARKS.md");
    let (_, rest) = doc
        .split_once("<!-- bench-table:begin -->")
        .expect("docs/BENCHMARKS.md has the bench-table markers tools/bench_doc.sh fills");
    let (table, _) = rest
        .split_once("<!-- bench-table:end -->")
        .expect("an end marker");
    let rows: Vec<&str> = table.lines().filter(|l| l.starts_with('|')).collect();
    assert!(rows.len() > 5, "the table has too few rows:\n{table}");
    for line in table.lines().map(str::trim).filter(|l| !l.is_empty()) {
        assert!(
            line.starts_with('|')
                || line.starts_with("Run of ")
                || line.starts_with("Collapse benchmark:")
                || line.starts_with("Float RGBA")
                || line.starts_with("### ")
                || line.starts_with("The generator against the reference simulation")
                || line.starts_with("**The generator-vs-simulation speed ratio was NOT measured**"),
            "a line that is not part of the table (a log line?) in docs/BENCHMARKS.md: {line}"
        );
    }
}
