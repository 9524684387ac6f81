//! The AWS clients the functions use, one SDK config for all of them.

/// Loads the shared AWS config. `AWS_ENDPOINT_URL` (honoured by the SDK) points every client
/// at a local emulator; S3 then needs path-style addressing.
pub async fn aws_clients() -> (aws_sdk_sns::Client, aws_sdk_s3::Client) {
    clients_for(&aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await)
}

/// SNS and S3 clients on `shared` (see [`aws_clients`]).
pub fn clients_for(shared: &aws_config::SdkConfig) -> (aws_sdk_sns::Client, aws_sdk_s3::Client) {
    let local = std::env::var_os("AWS_ENDPOINT_URL").is_some()
        || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some();
    let s3_config = aws_sdk_s3::config::Builder::from(shared)
        .force_path_style(local)
        .build();
    (
        aws_sdk_sns::Client::new(shared),
        aws_sdk_s3::Client::from_conf(s3_config),
    )
}
