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

    /// Whose pressure is read, and from where; `None` without PSI.
    pub(crate) fn whose(&self) -> Option<(Scope, PathBuf)> {
        self.read(Resource::Memory)?;
        Some((Scope::of(self.cgroup), self.dir.clone()))
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
                "avg10" => avg10 = parse_hundredths(value),
                "total" => total = value.parse::<u64>().ok(),
                _ => {}
            }
        }
        let avg10 = avg10.filter(|hundredths| *hundredths <= 10_000)?;
        *slot = Some(Stall {
            // Percent with two decimals to a ratio, from integers: the closest double to the
            // kernel's decimal (0.07 % is 0.0007, not 0.0007000000000000001).
            avg10: f64::from(avg10) / 10_000.0,
            total_us: total?,
        });
    }
    Some(Pressure { some: some?, full })
}

/// A percentage as the kernel prints it (`%lu.%02lu`: `0.12`, `100.00`) in hundredths.
fn parse_hundredths(text: &str) -> Option<u32> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, "0"));
    let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || !all_digits(fraction) || fraction.len() > 2 {
        return None;
    }
    // "5.1" is 5.10: scale a one-digit fraction to hundredths.
    let scale = if fraction.len() == 1 { 10 } else { 1 };
    let fraction = fraction.parse::<u32>().ok()? * scale;
    whole
        .parse::<u32>()
        .ok()?
        .checked_mul(100)?
        .checked_add(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pressure_with_and_without_full() {
        let memory = "some avg10=0.12 avg60=1.02 avg300=0.74 total=34712067\n\
                      full avg10=0.11 avg60=0.83 avg300=0.59 total=26822012\n";
        let pressure = parse_pressure(memory).unwrap();
        assert_eq!(pressure.some.avg10, 0.0012);
        assert_eq!(pressure.full.map(|full| full.avg10), Some(0.0011));
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
        assert_eq!(parse_pressure("some avg10=-1.00 total=1\n"), None);
        assert_eq!(parse_pressure("some avg10=1.005 total=1\n"), None);
        assert_eq!(parse_hundredths("100.00"), Some(10_000));
        assert_eq!(parse_hundredths("5.1"), Some(510));
        assert_eq!(parse_hundredths("7"), Some(700));
        assert_eq!(parse_hundredths("."), None);
        // Exact decimals, no float noise: 0.07 % is 0.0007 (0.07 / 100.0 is 0.0007000000000000001).
        assert_eq!(
            parse_pressure("some avg10=0.07 total=1\n")
                .unwrap()
                .some
                .avg10
                .to_string(),
            "0.0007"
        );
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
