//! Pressure stall information (PSI): the share of time tasks waited on CPU, memory or IO. Read
//! from the process's cgroup (v2 `cpu.pressure`, ...) when it is in one, else from
//! `/proc/pressure/*`, the whole system's.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::cgroup_id;
use crate::sys::platform::file::CachedFile;
use crate::sys::readings::{CgroupId, Pressure, Resource, Scope, ScopedPressure, Stall};

trait FileName {
    /// The file of a cgroup reporting on this resource.
    fn file(self) -> &'static str;
}

impl FileName for Resource {
    fn file(self) -> &'static str {
        match self {
            Resource::Cpu => "cpu.pressure",
            Resource::Memory => "memory.pressure",
            Resource::Io => "io.pressure",
        }
    }
}

/// The three pressure files of one cgroup or of the system, each opened the first time it is
/// read (a process that does not collect pressure holds none of them open).
#[derive(Debug)]
pub(crate) struct PressureFiles {
    dir: PathBuf,
    /// The cgroup whose files these are; `None`: the system's.
    cgroup: Option<CgroupId>,
    cpu: OnceLock<CachedFile>,
    memory: OnceLock<CachedFile>,
    io: OnceLock<CachedFile>,
}

impl PressureFiles {
    /// The files of the v2 cgroup `dir` if it has them, else the system's.
    pub(crate) fn open(dir: Option<&Path>) -> Self {
        let own = dir
            .filter(|dir| dir.join(Resource::Cpu.file()).is_file())
            .and_then(|dir| Some((dir, cgroup_id(dir)?)));
        let (dir, cgroup) = match own {
            Some((dir, id)) => (dir, Some(id)),
            None => (Path::new("/proc/pressure"), None),
        };
        PressureFiles {
            dir: dir.to_path_buf(),
            cgroup,
            cpu: OnceLock::new(),
            memory: OnceLock::new(),
            io: OnceLock::new(),
        }
    }

    pub(crate) fn read(&self, resource: Resource) -> Option<ScopedPressure> {
        let slot = match resource {
            Resource::Cpu => &self.cpu,
            Resource::Memory => &self.memory,
            Resource::Io => &self.io,
        };
        let file = slot.get_or_init(|| {
            let name = match Scope::of(self.cgroup) {
                Scope::Cgroup => resource.file(),
                Scope::System => resource.file().trim_end_matches(".pressure"),
            };
            CachedFile::open(&self.dir.join(name))
        });
        let mut pressure = file.read(parse_pressure)?;
        // The system's CPU `full` line is a placeholder (always zero since 5.13): not sent.
        if resource == Resource::Cpu && self.cgroup.is_none() {
            pressure.full = None;
        }
        Some(ScopedPressure {
            resource,
            pressure,
            cgroup: self.cgroup,
        })
    }
}

/// A pressure file: `some avg10=0.12 avg60=1.02 avg300=0.74 total=34712067`, then a `full`
/// line of the same shape (absent for CPU before Linux 5.13).
pub(crate) fn parse_pressure(text: &str) -> Option<Pressure> {
    let mut some = None;
    let mut full = None;
    for line in super::parse::whole(text)?.lines() {
        let mut fields = line.split_ascii_whitespace();
        let slot = match fields.next()? {
            "some" => &mut some,
            "full" => &mut full,
            _ => return None,
        };
        let mut avg10 = None;
        let mut total = None;
        for field in fields {
            let (key, value) = field.split_once('=')?;
            match key {
                "avg10" => avg10 = value.parse::<f64>().ok(),
                "total" => total = value.parse::<u64>().ok(),
                _ => {}
            }
        }
        let avg10 = avg10.filter(|avg| (0.0..=100.0).contains(avg))?;
        *slot = Some(Stall {
            avg10: avg10 / 100.0,
            total_us: total?,
        });
    }
    Some(Pressure { some: some?, full })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pressure_with_and_without_full() {
        let memory = "some avg10=0.12 avg60=1.02 avg300=0.74 total=34712067\n\
                      full avg10=0.11 avg60=0.83 avg300=0.59 total=26822012\n";
        let pressure = parse_pressure(memory).unwrap();
        assert!((pressure.some.avg10 - 0.0012).abs() < 1e-12);
        assert_eq!(pressure.some.total_us, 34_712_067);
        assert_eq!(pressure.full.map(|f| f.total_us), Some(26_822_012));
        let old_cpu = "some avg10=5.00 avg60=1.00 avg300=0.50 total=100\n";
        let pressure = parse_pressure(old_cpu).unwrap();
        assert_eq!((pressure.some.avg10, pressure.full), (0.05, None));
        // Cut, garbled or out of range: nothing.
        assert_eq!(
            parse_pressure("some avg10=0.12 avg60=1.02 avg300=0.74 tot"),
            None
        );
        assert_eq!(parse_pressure("some avg10=x total=1\n"), None);
        assert_eq!(parse_pressure("some avg10=120.00 total=1\n"), None);
        assert_eq!(
            parse_pressure("full avg10=0.00 total=1\n"),
            None,
            "no some line"
        );
        assert_eq!(parse_pressure(""), None);
    }

    #[test]
    fn this_machine_reports_pressure() {
        let files = PressureFiles::open(None);
        assert!(files.cpu.get().is_none(), "opened when first read");
        if Path::new("/proc/pressure/cpu").exists() {
            let cpu = files.read(Resource::Cpu).expect("PSI on");
            assert_eq!((cpu.scope(), cpu.cgroup), (Scope::System, None));
            assert!((0.0..=1.0).contains(&cpu.pressure.some.avg10));
            assert_eq!(
                cpu.pressure.full, None,
                "the system's CPU full line is not a value"
            );
        }
    }
}
