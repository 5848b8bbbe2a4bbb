//! `explain-error`: classify an HTTP error like the seed's
//! `handle_runtime_error`. Always JSON; the exit code follows the category.

use serde_json::{json, Value};
use skills_video::error::{classify, parse_error_body, PRICING_URL, RECHARGE_URL};
use skills_video::ErrorCategory;

use crate::args::ExplainErrorArgs;
use crate::exit::{self, CliError};
use crate::output::Output;

/// The explanation of one status and body.
pub fn explain(status: u16, body: &str) -> (Value, u8) {
    let (message, fields) = parse_error_body(body);
    let category = classify(Some(status), &message);
    let field_errors: Vec<Value> = fields
        .iter()
        .map(|f| json!({"field": f.field, "message": f.message, "type": f.kind}))
        .collect();
    let value = json!({
        "category": category.as_str(),
        "status": status,
        "message": message,
        "should_retry": category == ErrorCategory::Transient,
        "guidance": crate::output::cli_wording(category.guidance()),
        "fields": field_errors,
        "credits_check_command": "skills-video credits",
        "recharge": {
            "needed": category == ErrorCategory::InsufficientCredits,
            "dashboard_url": RECHARGE_URL,
            "where": "Billing/Credits",
            "pricing_url": PRICING_URL,
        },
        "exit_code": exit::code_of(category),
    });
    (value, exit::code_of(category))
}

/// Runs the command.
pub fn run(args: &ExplainErrorArgs, out: &Output) -> u8 {
    let body = match (&args.body, &args.body_file) {
        (Some(b), _) => b.clone(),
        (None, Some(path)) => match std::fs::read_to_string(path) {
            Ok(b) => b,
            Err(e) => {
                let e = CliError::input(format!("cannot read --body-file {}: {e}", path.display()));
                // Always JSON, even for this.
                println!("{}", e.to_json());
                return e.code;
            }
        },
        (None, None) => String::new(),
    };
    let (value, code) = explain(args.status, &body);
    // Always JSON; one line in --json mode, pretty otherwise.
    out.document(&value);
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_categories() {
        assert_eq!(explain(402, "{}").1, 20);
        assert_eq!(explain(400, r#"{"message":"please top up"}"#).1, 20);
        assert_eq!(explain(401, "").1, 21);
        assert_eq!(
            explain(
                422,
                r#"{"detail":[{"loc":["body","seed"],"msg":"bad","type":"x"}]}"#
            )
            .1,
            22
        );
        assert_eq!(explain(404, "").1, 23);
        let (v, c) = explain(503, "upstream down");
        assert_eq!(c, 24);
        assert_eq!(v["should_retry"], true);
        assert_eq!(explain(400, "bad").1, 25);
    }
}
