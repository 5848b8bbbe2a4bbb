//! `skills-video`: the command-line tool for the skills.video platform.
fn main() {}
