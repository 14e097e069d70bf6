//! One round's readings turned into the container collector's fields: the share of quota
//! periods throttled, and each resource's pressure fields.

use super::ContainerMetrics;
use crate::sys::{CgroupId, Resource, ScopedPressure, Throttling};

impl ContainerMetrics {
    /// The pressure fields of one resource, from its reading and what its stall grew by.
    pub(super) fn set_pressure(
        &mut self,
        reading: Option<ScopedPressure>,
        stalled_us: Option<u64>,
    ) {
        let Some(reading) = reading else {
            return;
        };
        let (some, full, stall) = match reading.resource {
            Resource::Cpu => (&mut self.cpu_some, &mut self.cpu_full, &mut self.cpu_stall),
            Resource::Memory => (
                &mut self.memory_some,
                &mut self.memory_full,
                &mut self.memory_stall,
            ),
            Resource::Io => (&mut self.io_some, &mut self.io_full, &mut self.io_stall),
        };
        let (pressure, scope) = (reading.pressure, reading.scope().as_str());
        some.insert(scope, pressure.some.avg10);
        stall.extend(stalled_us.map(|us| (scope, micros_to_ms(us))));
        full.extend(pressure.full.map(|all| (scope, all.avg10)));
    }
}

/// The share of the quota periods since the `previous` reading that were throttled (0..1), if
/// both are of the same cgroup and periods elapsed.
pub(super) fn throttled_ratio(
    previous: Option<(CgroupId, Throttling)>,
    now: Option<(CgroupId, Throttling)>,
) -> Option<f64> {
    match (previous, now) {
        (Some((then_cgroup, then)), Some((cgroup, now)))
            if then_cgroup == cgroup && now.periods > then.periods =>
        {
            let periods = now.periods - then.periods;
            let throttled = now.throttled_periods.saturating_sub(then.throttled_periods);
            #[allow(clippy::cast_precision_loss)] // Counts far below 2^53.
            Some((throttled as f64 / periods as f64).min(1.0))
        }
        _ => None,
    }
}

/// The resources pressure is read for.
pub(super) const RESOURCES: [Resource; 3] = [Resource::Cpu, Resource::Memory, Resource::Io];

#[allow(clippy::cast_precision_loss)] // Microseconds far below 2^53.
pub(super) fn micros_to_ms(micros: u64) -> f64 {
    micros as f64 / 1000.0
}
