//! Error text for the AWS SDK's errors.

/// An error with its chain of causes: the AWS SDK's own `Display` is terse ("service
/// error"); the reason is in its sources.
pub(crate) fn describe(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message = format!("{message}: {cause}");
        source = cause.source();
    }
    message
}
