//! `credits`: the balance.

use serde_json::json;

use crate::args::Cli;
use crate::commands::{client, Timeouts};
use crate::exit::{self, CliError};
use crate::output::Output;

/// Runs the command.
pub async fn run(cli: &Cli, out: &Output) -> u8 {
    let client = match client(cli, Timeouts::default()) {
        Ok(c) => c,
        Err(e) => {
            out.error(&e);
            return e.code;
        }
    };
    out.spinner("reading the balance");
    match client.credits().await {
        Ok(credits) => {
            out.stop_spinner();
            out.line(&json!({
                "event": "credits",
                "ok": true,
                "credits": credits.balance,
                "response": credits.raw,
                "recharge_url": skills_video::error::RECHARGE_URL,
            }));
            let shown = credits
                .balance
                .map(|b| b.to_string())
                .unwrap_or_else(|| format!("unknown (response: {})", credits.raw));
            out.summary(&format!(
                "credits: {shown}\n  recharge: {}",
                skills_video::error::RECHARGE_URL
            ));
            exit::OK
        }
        Err(e) => {
            let e = CliError::from(&e);
            out.error(&e);
            e.code
        }
    }
}
