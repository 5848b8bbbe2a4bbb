//! The README's flow: one image from a prompt, its URLs and what it cost.
//!
//! `SKILLS_VIDEO_API_KEY=... cargo run -p skills-video --example quickstart`
//! (`SKILLS_VIDEO_BASE_URL` points it at another server, e.g. the simulator).

use skills_video::models::bytedance_seedream_4_5::{AspectRatio, Resolution};
use skills_video::models::BytedanceSeedream4_5Request;
use skills_video::Client;

#[tokio::main]
async fn main() -> Result<(), skills_video::Error> {
    let client = Client::from_env()?;
    let request = BytedanceSeedream4_5Request::new("a lighthouse at dusk, film photo")
        .resolution(Resolution::V2k)
        .aspect_ratio(AspectRatio::V16_9)
        .n(2);
    let generation = client.images().bytedance_seedream_4_5(request).await?;
    for image in generation.images() {
        println!(
            "image {} ({}x{})",
            image.url,
            image.width.unwrap_or_default(),
            image.height.unwrap_or_default()
        );
    }
    if let Some(usage) = generation.usage() {
        println!("credits charged: {}", usage.total);
    }
    Ok(())
}
