//! Animate a photo on disk: a URL field takes a `Media`, and a local file is
//! sent as multipart/form-data, streamed from disk.
//!
//! `cargo run -p skills-video --example animate_local_image -- ./photo.png`

use skills_video::models::KlingAiV3VideoRequest;
use skills_video::{Client, Media};

#[tokio::main]
async fn main() -> Result<(), skills_video::Error> {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: animate_local_image IMAGE_PATH");
        std::process::exit(2);
    };
    let client = Client::from_env()?;
    let request = KlingAiV3VideoRequest::new("the scene comes alive, slow push-in")
        .first_frame_url(Media::file(path))
        .duration(5);
    let generation = client.videos().kling_ai_v3_video(request).await?;
    for video in generation.videos() {
        println!(
            "video {} ({} s)",
            video.url,
            video.duration.unwrap_or_default()
        );
    }
    Ok(())
}
