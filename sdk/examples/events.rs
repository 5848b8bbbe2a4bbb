//! Every step of a generation as it happens: `events` is a `Stream`, and the
//! prelude brings `StreamExt` (for `.next()`) into scope.

use skills_video::models::KlingAiV3VideoRequest;
use skills_video::prelude::*;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let client = Client::from_env()?;
    let mut events = client.events(KlingAiV3VideoRequest::new("waves roll in at dusk"));
    while let Some(event) = events.next().await {
        let event = event?;
        println!("{event}");
        if let Event::Created { generation_id } = &event {
            // Save it: `wait(id)` resumes this job after a crash.
            eprintln!("resume with: cargo run --example resume -- {generation_id}");
        }
    }
    Ok(())
}
