//! Resume a generation by id (after a crash, or from another process):
//! `wait` only polls, it never creates or pays for anything.
//!
//! `cargo run -p skills-video --example resume -- GENERATION_ID`

use skills_video::Client;

#[tokio::main]
async fn main() -> Result<(), skills_video::Error> {
    let Some(id) = std::env::args().nth(1) else {
        eprintln!("usage: resume GENERATION_ID");
        std::process::exit(2);
    };
    let client = Client::from_env()?;
    let generation = client.wait(&id).await?;
    println!("{} {}", generation.id().unwrap_or("?"), generation.status());
    for url in generation.output_urls() {
        println!("{url}");
    }
    Ok(())
}
