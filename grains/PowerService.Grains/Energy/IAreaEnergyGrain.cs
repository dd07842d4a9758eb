using PowerService.Grains.Ami;
using PowerService.Runtime;

namespace PowerService.Grains.Energy;

/// <summary>The energy side of one transformer area (key: area id): meter readings against the area's supply meter give
/// line loss per period, and voltages outside the allowed band are flagged. The AMI ingestion path hands it the readings
/// of its meters (supply meter included) in batches.</summary>
public interface IAreaEnergyGrain : IGrain
{
    /// <summary>Records readings of this area's meters; a reading already recorded (same meter and event id) counts
    /// once. Returns how many were new.</summary>
    Task<int> RecordReadings(IReadOnlyList<MeterEvent> readings);

    /// <summary>The latest reading recorded for one meter of the area, or null when none is known (fault-call
    /// classification asks whether the meter reports power).</summary>
    Task<MeterEvent?> GetLastReading(string meterId);
}
