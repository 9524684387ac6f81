//! The worker behind each binary the template names, built by its own assembly from the
//! function's resolved environment, as its Lambda builds it.

use std::path::PathBuf;
use std::sync::Arc;

use postlens_local_stack::{FunctionSpec, LocalFunction, LocalStack};
use postlens_runtime::store::S3Store;
use postlens_runtime::{Assemble, Parts};

use crate::workers::{ForWorker, WorkerKind};

/// The handler behind `function`'s binary; `None` when its models are missing. A binary
/// the worker list does not know is an error, so a worker added to infra/workers.toml
/// without an assembly fails the demo (and its test) instead of sitting idle.
pub(super) fn local_function(
    stack: &LocalStack,
    function: &FunctionSpec,
    config: &aws_config::SdkConfig,
) -> anyhow::Result<Option<Arc<dyn LocalFunction>>> {
    let Some(kind) = WorkerKind::from_binary(&function.binary) else {
        anyhow::bail!(
            "the template's function {} runs binary {}, which crates/postlens/src/workers.rs does not list",
            function.id,
            function.binary
        );
    };
    kind.apply(StackFunction {
        stack,
        function,
        config,
    })
}

/// One worker as a function of the local stack.
struct StackFunction<'a> {
    stack: &'a LocalStack,
    function: &'a FunctionSpec,
    config: &'a aws_config::SdkConfig,
}

impl ForWorker for StackFunction<'_> {
    type Output = anyhow::Result<Option<Arc<dyn LocalFunction>>>;

    fn run<W: Assemble>(self) -> Self::Output {
        let model_dir = if W::MODELS.is_empty() {
            PathBuf::new()
        } else if let Some(dir) = postlens_models::model_dir() {
            dir
        } else {
            eprintln!(
                "  {}: no models/ (run `make models`); not started",
                W::BINARY
            );
            return Ok(None);
        };
        let environment = self.stack.environment(self.function)?;
        let settings = |name: &str| environment.get(name).cloned();
        // The worker's own reads and writes go through the function's role, as its
        // engine's do.
        let (role, _) = self.stack.role_config(self.function, self.config)?;
        let store = Arc::new(S3Store::new(postlens_local_stack::emulator::s3_client(
            &role,
        )));
        let worker = W::assemble(Parts {
            model_dir: &model_dir,
            settings: &settings,
            store,
        })?;
        let function = self.stack.function(worker, self.function, self.config)?;
        Ok(Some(Arc::new(function)))
    }
}
