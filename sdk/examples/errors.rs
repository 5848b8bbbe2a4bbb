//! Deciding what to do with an error by its category: fix the request,
//! recharge, retry later, or resume by id.

use skills_video::models::BytedanceSeedream4_5Request;
use skills_video::{Client, Error, ErrorCategory};

#[tokio::main]
async fn main() {
    let client = match Client::from_env() {
        Ok(c) => c,
        Err(e) => return eprintln!("{e}"),
    };
    // `n` allows 1 to 4: this request is refused before anything is sent.
    let request = BytedanceSeedream4_5Request::new("a fox").n(9);
    match client.images().bytedance_seedream_4_5(request).await {
        Ok(generation) => println!("done: {:?}", generation.output_urls()),
        Err(e) => {
            let advice = match e.category() {
                ErrorCategory::Validation => "fix the request",
                ErrorCategory::InsufficientCredits => "recharge, then try again",
                ErrorCategory::Auth => "check SKILLS_VIDEO_API_KEY",
                ErrorCategory::Transient => "try again later",
                ErrorCategory::Timeout | ErrorCategory::Ambiguous => {
                    "resume by id or key; do not create again"
                }
                _ => "see the message",
            };
            println!("{}: {advice}", e.category().as_str());
            if let Error::InvalidRequest { errors, .. } = &e {
                for v in &errors.violations {
                    println!("  {}: {}", v.field, v.message);
                }
            }
        }
    }
}
