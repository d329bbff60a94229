//! Shared by the integration tests: run one test body against every store backend.

/// `both!(name, body_fn)` makes `name::sqlite` and `name::postgres` tests calling
/// `body_fn(backend)`.
#[macro_export]
macro_rules! both {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$body("sqlite").await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$body("postgres").await
            }
        }
    };
}
