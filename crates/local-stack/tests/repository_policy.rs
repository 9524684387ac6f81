//! Repository policy: the project's SAM template, the crates' `cargo lambda deploy`
//! metadata and its layers agree with each other and with what the engine needs (moved out
//! of `topology.rs`, whose own tests parse templates written for them).

use std::path::Path;

use postlens_local_stack::topology::{EnvValue, Topology, LOCAL_STACK_NAME};

#[test]
fn the_project_template_describes_the_whole_fan_out() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/template.yaml");
    let topology = Topology::from_file(&path).expect("infra/template.yaml parses");
    // Every worker of infra/workers.toml (scripts/workers.py keeps the template its
    // rendering); these four are named so that an empty template cannot pass.
    for binary in [
        "caption-parser",
        "auto-tagger",
        "thumbnail-generator",
        "text-scorer",
    ] {
        assert!(topology.function(binary).is_some(), "{binary} missing");
    }
    for function in &topology.functions {
        let binary = &function.binary;
        assert!(function.source.report_batch_item_failures, "{binary}");
        let queue = topology.queue(&function.source.queue).expect("queue");
        let redrive = queue.redrive.as_ref().expect("redrive");
        assert_eq!(redrive.max_receive_count, 5, "{binary}");
        assert!(
            queue.visibility_timeout_s >= 6 * function.timeout_s,
            "{binary}: visibility timeout below 6 x function timeout"
        );
        assert!(
            topology.subscriptions.iter().any(|s| s.queue == queue.id),
            "{binary}: queue has no subscription"
        );
        assert!(matches!(
            function.environment.get("OUTPUT_TOPIC_ARN"),
            Some(EnvValue::Ref(topic)) if topology.topics.contains(topic)
        ));
        // The engine publishes internal_error on the last receive only if it knows
        // which receive is the last.
        assert_eq!(
            function.environment.get("MAX_RECEIVE_COUNT"),
            Some(&EnvValue::Literal(redrive.max_receive_count.to_string())),
            "{binary}: MAX_RECEIVE_COUNT must equal the queue's maxReceiveCount"
        );
    }
}

/// `cargo lambda deploy` reads the crates' `[package.metadata.lambda.deploy]`: it must
/// not drift from the template, nor carry account-specific values.
#[test]
fn cargo_lambda_deploy_metadata_matches_the_template() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let topology = Topology::from_file(&root.join("infra/template.yaml")).expect("template");
    let template: serde_yaml::Value = serde_yaml::from_str(
        &std::fs::read_to_string(root.join("infra/template.yaml")).expect("read"),
    )
    .expect("yaml");
    for function in &topology.functions {
        let manifest = root
            .join("crates")
            .join(&function.binary)
            .join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).expect("Cargo.toml");
        let parsed: toml::Table = text.parse().expect("toml");
        let deploy = &parsed["package"]["metadata"]["lambda"]["deploy"];
        let binary = &function.binary;
        assert_eq!(
            deploy["memory"].as_integer(),
            Some(i64::from(function.memory_mb)),
            "{binary}"
        );
        assert_eq!(
            deploy["timeout"].as_integer(),
            Some(i64::from(function.timeout_s)),
            "{binary}"
        );
        let tracing = template["Resources"][function.id.as_str()]["Properties"]["Tracing"]
            .as_str()
            .unwrap_or("PassThrough")
            .to_ascii_lowercase();
        assert_eq!(
            deploy["tracing"].as_str(),
            Some(tracing.as_str()),
            "{binary}"
        );
        assert!(
            deploy.get("env").is_none(),
            "{binary}: an env table would replace the stack's environment"
        );
        assert!(
            !text.contains(":000000000000:"),
            "{binary}: a placeholder account"
        );
        let output = format!("{}Name", function.id);
        assert!(
            template["Outputs"].get(output.as_str()).is_some(),
            "{binary}: the stack must output {output} for cargo lambda deploy"
        );
    }
}

/// One layer per model: each function mounts the layers of the models it loads, and
/// every layer is staged by `make models-layer` under target/layers/.
#[test]
fn each_function_mounts_only_its_models_layers() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/template.yaml");
    let topology = Topology::from_file(&path).expect("template");
    let layers_of = |binary: &str| {
        let function = topology.function(binary).expect("function");
        let mut dirs: Vec<String> = function
            .layers
            .iter()
            .map(|id| {
                let uri = topology.layers.get(id).expect("layer resource");
                uri.strip_prefix("../target/layers/")
                    .and_then(|d| d.strip_suffix('/'))
                    .unwrap_or_else(|| panic!("{id}: ContentUri {uri}"))
                    .to_owned()
            })
            .collect();
        dirs.sort();
        dirs
    };
    assert!(layers_of("caption-parser").is_empty());
    assert_eq!(layers_of("auto-tagger"), ["minilm-l6-v2", "taxonomy"]);
    assert_eq!(layers_of("text-scorer"), ["minilm-l6-v2", "smollm2-135m"]);
    assert_eq!(layers_of("thumbnail-generator"), ["yolox-nano"]);
}

/// The workers' metrics carry the stack as a dimension; alarms on them must filter on
/// it (or they would watch a metric no worker writes), and every worker has a retry alarm.
#[test]
fn alarms_on_worker_metrics_name_the_stack() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/template.yaml");
    let text = std::fs::read_to_string(&path).expect("template");
    let template: serde_yaml::Value = serde_yaml::from_str(&text).expect("yaml");
    let topology = Topology::parse(&text).expect("topology");
    for function in &topology.functions {
        assert_eq!(
            function.environment.get("STACK_NAME"),
            Some(&EnvValue::Literal(LOCAL_STACK_NAME.to_owned()))
        );
        assert_eq!(
            function.environment.get("METRICS_NAMESPACE"),
            Some(&EnvValue::Literal("postlens".to_owned()))
        );
    }
    let mut retry_alarms = Vec::new();
    for (id, resource) in template["Resources"].as_mapping().expect("resources") {
        let properties = &resource["Properties"];
        let namespace = serde_yaml::to_string(&properties["Namespace"]).unwrap_or_default();
        if resource["Type"].as_str() != Some("AWS::CloudWatch::Alarm")
            || !namespace.contains("MetricsNamespace")
        {
            continue;
        }
        let id = id.as_str().expect("id");
        let dimensions = serde_yaml::to_string(&properties["Dimensions"]).expect("dims");
        assert!(
            dimensions.contains("Name: stack") && dimensions.contains("AWS::StackName"),
            "{id}: {dimensions}"
        );
        assert!(dimensions.contains("Name: worker"), "{id}");
        if properties["MetricName"].as_str() == Some("RecordsRetried") {
            retry_alarms.push(id.to_owned());
        }
    }
    assert_eq!(
        retry_alarms.len(),
        topology.functions.len(),
        "{retry_alarms:?}"
    );
}
