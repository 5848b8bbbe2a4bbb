//! Typed async Rust SDK for the skills.video image and video generation platform.
