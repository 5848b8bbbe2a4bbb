//! Prints the reliability report: every fault of the matrix against the SDK,
//! one line each, and `N passed, M failed`. Exits non-zero on a failure.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let verdicts = skills_video_tests::matrix::run_all().await;
    println!("{}", skills_video_tests::matrix::report(&verdicts));
    if verdicts.iter().all(|v| v.problems.is_empty()) {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
