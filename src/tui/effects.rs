//! Effects: the device and file work `update` asks for, and the runner that does it on a
//! worker thread and reports back as [`Msg`]s over the same channel the main loop reads.
//! A device call can block for tens of seconds (waiting for a touch); the main loop keeps
//! drawing meanwhile because it never executes an effect itself.
//!
//! The worker owns the opened device, the simulated key (if any) and the credentials made
//! but not yet written ([`Prepared`]): they never cross into the UI thread's state.

use super::message::{
    AuditReport, AuditRequest, DeviceChoice, Done, LoadedPolicy, Msg, OpenedDevice, PolicySource,
    PreparedSummary, Problem, AUDIT_SHOWN_MAX,
};
use crate::audit::{self, AuditInput, AuthorizedKeysInput};
use crate::device::{self, Authenticator, CtapAuthenticator, CtapOptions, EventSink, Pin};
use crate::enroll::{self, recover, ModePreflight, PreflightOptions, Prepared, Secrets};
use crate::policy::{self, EnrollmentPlan, PlannedKey};
use std::collections::BTreeMap;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Name of the runner's thread (the panic hook leaves the terminal alone for it: a panic
/// there is caught and shown as an error).
pub const RUNNER_THREAD_NAME: &str = "skset-tui-worker";

/// Which device to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Path(String),
    /// Start the simulated key (OpenSK behind a FUSE file) and open it.
    Simulated,
}

pub enum Effect {
    ListDevices,
    Open(Target),
    SetPin(Pin),
    VerifyPin(Pin),
    LoadPolicyFile {
        path: PathBuf,
        host_name: String,
    },
    Preflight {
        plan: Box<EnrollmentPlan>,
        pin: Option<Pin>,
        out_dir: PathBuf,
        options: PreflightOptions,
    },
    /// Make (or adopt) one mode's credential; the touch happens here.
    Prepare {
        index: usize,
        key: Box<PlannedKey>,
        decided: Box<ModePreflight>,
        pin: Option<Pin>,
    },
    /// Write the prepared modes' files, one mode at a time, in this order.
    Write {
        items: Vec<(usize, PlannedKey, ModePreflight)>,
        secrets: Secrets,
        out_dir: PathBuf,
    },
    Recover {
        plan: Box<EnrollmentPlan>,
        pin: Pin,
        out_dir: PathBuf,
        force: bool,
    },
    /// Drop prepared credentials (the flow was left before writing).
    Forget,
    /// Read the files and audit them against the policy (no device).
    Audit(AuditRequest),
}

/// Secrets stay out of Debug output (and so out of logs and test failure messages).
impl fmt::Debug for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Effect::ListDevices => f.write_str("ListDevices"),
            Effect::Open(t) => write!(f, "Open({t:?})"),
            Effect::SetPin(_) => f.write_str("SetPin(<redacted>)"),
            Effect::VerifyPin(_) => f.write_str("VerifyPin(<redacted>)"),
            Effect::LoadPolicyFile { path, .. } => write!(f, "LoadPolicyFile({})", path.display()),
            Effect::Preflight {
                plan,
                pin,
                out_dir,
                options,
            } => {
                write!(
                    f,
                    "Preflight {{ policy: {}, pin: {}, out_dir: {}, options: {options:?} }}",
                    plan.policy,
                    pin.is_some(),
                    out_dir.display()
                )
            }
            Effect::Prepare { index, key, .. } => {
                write!(f, "Prepare {{ index: {index}, mode: {} }}", key.mode)
            }
            Effect::Write { items, secrets, .. } => {
                let modes: Vec<&str> = items.iter().map(|(_, k, _)| k.mode.as_str()).collect();
                write!(
                    f,
                    "Write {{ modes: {modes:?}, passphrases for: {:?} }}",
                    secrets.passphrases.keys().collect::<Vec<_>>()
                )
            }
            Effect::Recover {
                plan,
                out_dir,
                force,
                ..
            } => write!(
                f,
                "Recover {{ policy: {}, out_dir: {}, force: {force} }}",
                plan.policy,
                out_dir.display()
            ),
            Effect::Forget => f.write_str("Forget"),
            Effect::Audit(request) => write!(f, "Audit({request:?})"),
        }
    }
}

impl Effect {
    /// For tests and logs: the variant's name.
    pub fn name(&self) -> &'static str {
        match self {
            Effect::ListDevices => "ListDevices",
            Effect::Open(_) => "Open",
            Effect::SetPin(_) => "SetPin",
            Effect::VerifyPin(_) => "VerifyPin",
            Effect::LoadPolicyFile { .. } => "LoadPolicyFile",
            Effect::Preflight { .. } => "Preflight",
            Effect::Prepare { .. } => "Prepare",
            Effect::Write { .. } => "Write",
            Effect::Recover { .. } => "Recover",
            Effect::Forget => "Forget",
            Effect::Audit(_) => "Audit",
        }
    }
}

/// Executes effects. The real one talks to the device; the benchmark's sleeps.
pub trait Executor: Send + 'static {
    fn execute(&mut self, effect: Effect, reply: &Sender<Msg>);
}

/// The worker thread and its queue. Effects run one at a time, in order.
pub struct Runner {
    queue: Option<Sender<Effect>>,
    thread: Option<JoinHandle<()>>,
}

impl Runner {
    pub fn spawn(reply: Sender<Msg>, mut executor: impl Executor) -> std::io::Result<Runner> {
        let (queue, effects): (Sender<Effect>, Receiver<Effect>) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(RUNNER_THREAD_NAME.into())
            .spawn(move || {
                for effect in effects {
                    let name = effect.name();
                    // A panic in the engine must not take the screen down with it.
                    if let Err(panic) =
                        catch_unwind(AssertUnwindSafe(|| executor.execute(effect, &reply)))
                    {
                        let text = panic
                            .downcast_ref::<&str>()
                            .map(|s| s.to_string())
                            .or_else(|| panic.downcast_ref::<String>().cloned())
                            .unwrap_or_default();
                        let _ = reply.send(Msg::Done(Done::Crashed(format!(
                            "{name} failed unexpectedly: {text}"
                        ))));
                    }
                }
                // The queue closed: dropping the executor here closes the device and unmounts
                // the simulated key.
                drop(executor);
            })?;
        Ok(Runner {
            queue: Some(queue),
            thread: Some(thread),
        })
    }

    pub fn send(&self, effect: Effect) {
        if let Some(queue) = &self.queue {
            let _ = queue.send(effect);
        }
    }

    /// Closes the queue and waits up to `limit` for the worker to finish (so a simulated
    /// key is unmounted). A worker stuck in a device call is left behind.
    pub fn shutdown(mut self, limit: Duration) {
        self.queue = None;
        if let Some(thread) = self.thread.take() {
            let (done_tx, done_rx) = mpsc::channel();
            std::thread::spawn(move || {
                let _ = thread.join();
                let _ = done_tx.send(());
            });
            let _ = done_rx.recv_timeout(limit);
        }
    }
}

/// The simulated key and the directory it is mounted on (unmount first: field order).
struct Simulated {
    key: virtual_key::VirtualKey,
    _dir: tempfile::TempDir,
}

/// Executes effects against a real (or the simulated) security key and the file system.
pub struct DeviceExecutor {
    device: Option<CtapAuthenticator>,
    simulated: Option<Simulated>,
    /// Credentials made but not yet written, by plan index.
    prepared: BTreeMap<usize, Prepared>,
    events: EventSink,
    reply: Sender<Msg>,
}

impl DeviceExecutor {
    pub fn new(reply: Sender<Msg>) -> DeviceExecutor {
        let events_tx = reply.clone();
        let events: EventSink = Arc::new(move |event| {
            let _ = events_tx.send(Msg::Device(event));
        });
        DeviceExecutor {
            device: None,
            simulated: None,
            prepared: BTreeMap::new(),
            events,
            reply,
        }
    }

    fn options(&self) -> CtapOptions {
        CtapOptions {
            events: Some(Arc::clone(&self.events)),
            ..CtapOptions::default()
        }
    }

    fn device(&self) -> Result<&CtapAuthenticator, device::DeviceError> {
        self.device.as_ref().ok_or(device::DeviceError::NoDevice)
    }

    fn open(&mut self, target: Target) -> Result<OpenedDevice, Problem> {
        self.device = None;
        self.prepared.clear();
        let (path, simulated) = match target {
            Target::Path(path) => (path, false),
            Target::Simulated => {
                if self.simulated.is_none() {
                    let dir = tempfile::Builder::new()
                        .prefix("skset-simulated-key-")
                        .tempdir()
                        .map_err(|e| {
                            Problem::new(format!(
                                "cannot create a directory for the simulated key: {e}"
                            ))
                        })?;
                    let key =
                        virtual_key::VirtualKey::start(dir.path(), virtual_key::Options::default())
                            .map_err(|e| {
                                Problem::new(format!("cannot start the simulated key: {e}"))
                            })?;
                    self.simulated = Some(Simulated { key, _dir: dir });
                }
                let path = self
                    .simulated
                    .as_ref()
                    .map(|s| s.key.path().to_string_lossy().into_owned())
                    .unwrap_or_default();
                (path, true)
            }
        };
        let device = CtapAuthenticator::open(&path, self.options())?;
        let info = device.info()?;
        let pin = device.pin_status().ok();
        self.device = Some(device);
        Ok(OpenedDevice {
            path,
            info,
            pin,
            simulated,
        })
    }

    fn list(&self) -> Result<Vec<DeviceChoice>, device::DeviceError> {
        let found = device::list_devices()?;
        Ok(found
            .into_iter()
            .map(|summary| {
                let quick = CtapOptions {
                    deadline: Duration::from_secs(3),
                    touch_deadline: Duration::from_secs(3),
                    events: None,
                };
                match CtapAuthenticator::open(&summary.path, quick).and_then(|d| d.info()) {
                    Ok(info) => DeviceChoice {
                        summary,
                        info: Some(info),
                        error: None,
                    },
                    Err(e) => DeviceChoice {
                        summary,
                        info: None,
                        error: Some(e.to_string()),
                    },
                }
            })
            .collect())
    }
}

impl Executor for DeviceExecutor {
    fn execute(&mut self, effect: Effect, reply: &Sender<Msg>) {
        let done = match effect {
            Effect::ListDevices => Done::Devices(self.list()),
            Effect::Open(target) => Done::Opened(self.open(target)),
            Effect::SetPin(pin) => Done::PinSet(self.device().and_then(|d| d.set_pin(&pin))),
            Effect::VerifyPin(pin) => {
                Done::PinVerified(self.device().and_then(|d| d.credential_counts(&pin)))
            }
            Effect::LoadPolicyFile { path, host_name } => {
                Done::PolicyLoaded(load_policy(PolicySource::File(path), &host_name))
            }
            Effect::Preflight {
                plan,
                pin,
                out_dir,
                options,
            } => Done::Preflight(
                self.device()
                    .and_then(|d| enroll::preflight(d, &plan, pin.as_ref(), &out_dir, &options)),
            ),
            Effect::Prepare {
                index,
                key,
                decided,
                pin,
            } => {
                let events_tx = self.reply.clone();
                let events = move |event| {
                    let _ = events_tx.send(Msg::Enroll(event));
                };
                let result = match self.device() {
                    Ok(d) => enroll::prepare_mode(d, &key, &decided, pin.as_ref(), &events),
                    Err(source) => Err(enroll::EnrollError::Device {
                        mode: key.mode.clone(),
                        source,
                    }),
                };
                Done::Prepared {
                    index,
                    result: result.map(|prepared| {
                        let summary = PreparedSummary {
                            status: prepared.status(),
                            fingerprint: prepared.fingerprint(),
                        };
                        self.prepared.insert(index, prepared);
                        summary
                    }),
                }
            }
            Effect::Write {
                items,
                secrets,
                out_dir,
            } => {
                let events_tx = self.reply.clone();
                let events = move |event| {
                    let _ = events_tx.send(Msg::Enroll(event));
                };
                for (index, key, decided) in items {
                    let result = match self.prepared.remove(&index) {
                        Some(prepared) => enroll::write_mode(
                            &key, &decided, prepared, &secrets, &out_dir, &events,
                        ),
                        None => Err(enroll::EnrollError::Render {
                            mode: key.mode.clone(),
                            detail: "its credential was not made yet".into(),
                        }),
                    };
                    let _ = reply.send(Msg::Done(Done::Written { index, result }));
                }
                return;
            }
            Effect::Recover {
                plan,
                pin,
                out_dir,
                force,
            } => {
                let events = |_| {};
                Done::Recovered(match self.device() {
                    Ok(d) => recover::recover(
                        d,
                        &plan,
                        &pin,
                        &out_dir,
                        force,
                        &Secrets::default(),
                        &events,
                    ),
                    Err(e) => Err(e.into()),
                })
            }
            Effect::Forget => {
                self.prepared.clear();
                return;
            }
            Effect::Audit(request) => Done::Audited(run_audit(&request)),
        };
        let _ = reply.send(Msg::Done(done));
    }
}

/// A policy file (or the built-in policy) checked and planned for the first device it
/// names, as `skset enroll --policy` does. Pure apart from reading the file.
pub fn load_policy(source: PolicySource, host_name: &str) -> Result<LoadedPolicy, Problem> {
    let policy = match &source {
        PolicySource::BuiltIn => policy::default_policy(),
        PolicySource::File(path) => policy::load_policy_file(path),
    }
    .map_err(|e| Problem::new(e.to_string()))?;
    let label = policy
        .settings
        .default_label
        .clone()
        .unwrap_or_else(|| host_name.to_string());
    let mut plan = policy::plan(&policy, &label).map_err(|e| match e {
        policy::PlanError::Violations(findings) => {
            let lines: Vec<String> = findings.iter().map(|f| f.to_string()).collect();
            Problem::new(format!(
                "the policy breaks its rules:\n{}",
                lines.join("\n")
            ))
        }
        other => Problem::new(other.to_string()),
    })?;
    if let Some(first) = plan.devices.first().cloned() {
        plan.keys.retain(|k| k.device == first);
    }
    let explanations = policy::explain(&policy);
    Ok(LoadedPolicy {
        source,
        policy,
        plan,
        explanations,
    })
}

/// The audit `skset audit` runs, for the form's request: the policy loaded and checked as
/// the CLI checks it, the input built (`FILE[:ACCOUNT]` parsed, which looks at the disk),
/// findings gathered most severe first. Reads files: only the worker calls it.
pub fn run_audit(request: &AuditRequest) -> Result<AuditReport, Problem> {
    let policy = match &request.policy {
        Some(path) => policy::load_policy_file(path),
        None => policy::default_policy(),
    }
    .map_err(|e| Problem::new(e.to_string()))?;
    let violations: Vec<String> = policy::rules::errors(&policy::check(&policy))
        .map(|f| f.to_string())
        .collect();
    if !violations.is_empty() {
        return Err(Problem::new(format!(
            "the policy breaks its own rules, so auditing against it would mislead; fix it first (skset policy check):\n{}",
            violations.join("\n")
        )));
    }
    let input = AuditInput {
        ssh_dirs: request.ssh_dir.iter().cloned().collect(),
        authorized_keys: request
            .authorized_keys
            .iter()
            .map(|a| AuthorizedKeysInput::parse(a))
            .collect(),
        ssh_configs: request.ssh_config.iter().cloned().collect(),
        roots: None,
        policy_dir: request
            .policy
            .as_ref()
            .and_then(|p| p.parent())
            .map(|p| p.to_path_buf()),
    };
    let mut collector = AuditReport::collector(AUDIT_SHOWN_MAX);
    let summary = audit::audit(&policy, &input, &mut |finding| collector.push(finding))
        .map_err(|e| Problem::new(e.to_string()))?;
    Ok(collector.finish(summary))
}
