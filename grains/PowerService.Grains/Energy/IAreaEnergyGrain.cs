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

    /// <summary>The periods being summed, the latest measured ones and the meters whose voltage is out of the band.
    /// Throws <see cref="EntityNotFoundException"/> for an area that is not in the topology.</summary>
    Task<AreaEnergyView> Get();
}

/// <summary>An area's energy at a glance. <paramref name="CustomerMeters"/> excludes the supply meter; readings refused
/// (not of this area's meters, or not a valid reading) and late (their period was already measured) are counted.</summary>
public sealed record AreaEnergyView(
    string AreaId,
    string? SupplyMeterId,
    int CustomerMeters,
    IReadOnlyList<OpenPeriodView> OpenPeriods,
    IReadOnlyList<LineLossMeasured> RecentPeriods,
    IReadOnlyList<VoltageExcursion> VoltageOutOfRange,
    long RefusedReadings,
    long LateReadings);

/// <summary>A period still summing readings; its loss is measured at <paramref name="ClosesAt"/>.</summary>
public sealed record OpenPeriodView(
    DateTimeOffset Start, DateTimeOffset End, DateTimeOffset ClosesAt, double SupplyKwh, double DeliveredKwh, int ReportingMeters);

/// <summary>A meter whose voltage is outside the band now, since <paramref name="Since"/>.</summary>
public sealed record VoltageExcursion(string MeterId, VoltageDeviation Deviation, double Voltage, DateTimeOffset Since);
