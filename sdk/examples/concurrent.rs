//! Several generations at once through one client (one connection pool),
//! at most four in flight.

use skills_video::models::BytedanceSeedream4_5Request;
use skills_video::prelude::*;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let client = Client::from_env()?;
    let prompts = [
        "a fox",
        "a lighthouse",
        "a red kite",
        "a tide pool",
        "a glacier",
        "a desert road",
    ];
    let results: Vec<_> = futures::stream::iter(prompts)
        .map(|prompt| {
            let client = client.clone();
            async move {
                let result = client
                    .images()
                    .bytedance_seedream_4_5(BytedanceSeedream4_5Request::new(prompt))
                    .await;
                (prompt, result)
            }
        })
        .buffer_unordered(4)
        .collect()
        .await;
    let mut failed = 0;
    for (prompt, result) in results {
        match result {
            Ok(g) => println!("{prompt}: {}", g.output_urls().join(" ")),
            Err(e) => {
                failed += 1;
                println!("{prompt}: {e}");
            }
        }
    }
    println!("{} done, {failed} failed", prompts.len() - failed);
    Ok(())
}
