mod picture;
mod preview;
mod progress;
mod sequence;
mod shot;

fn main() {
    eprintln!("collapse-render: being written");
    std::process::exit(3);
}
