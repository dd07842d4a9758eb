using PowerService.Grains.Ami;

namespace PowerService.Grains.Energy;

/// <summary>What an area's energy grain stores. Changed only by <see cref="AreaEnergyGrain"/>. Small on purpose:
/// per meter the last reading and its voltage status, per open period (one, two while the last one waits for late
/// readings) two sums and a bit per meter and interval.</summary>
internal sealed class AreaEnergyState
{
    public Dictionary<string, MeterRecord> Meters { get; set; } = new(StringComparer.Ordinal);

    public List<OpenPeriod> OpenPeriods { get; set; } = [];

    /// <summary>The latest measured periods, oldest first.</summary>
    public List<LineLossMeasured> RecentPeriods { get; set; } = [];

    /// <summary>Measured periods the region's indicators have not heard of yet.</summary>
    public List<LineLossMeasured> LineLossOwed { get; set; } = [];

    /// <summary>The start of the latest measured period: energy of it or before arrives too late to count.</summary>
    public DateTimeOffset? LastMeasuredStart { get; set; }

    public long RefusedReadings { get; set; }

    public long LateReadings { get; set; }
}

/// <param name="Last">The latest reading by interval end.</param>
/// <param name="Deviation">Where the voltage of the latest reading lies outside the band, null when inside.</param>
/// <param name="DeviationSince">When the voltage left the band.</param>
/// <param name="LastVoltage">The voltage of the newest reading that carried one (a reading without one keeps it: an
/// excursion was shown as "High, 0 V").</param>
internal sealed record MeterRecord(MeterEvent Last, VoltageDeviation? Deviation, DateTimeOffset? DeviationSince, double? LastVoltage = null);

internal sealed class OpenPeriod
{
    public DateTimeOffset Start { get; set; }

    public double SupplyKwh { get; set; }

    public double DeliveredKwh { get; set; }

    /// <summary>For a period whose readings arrived after its close (a head-end's backlog): when it is measured, a
    /// <c>CloseDelay</c> after its latest reading so far. Null for a period read in time.</summary>
    public DateTimeOffset? BacklogClosesAt { get; set; }

    /// <summary>Per meter, one bit per interval of the period: set when that interval's energy is counted.</summary>
    public Dictionary<string, byte[]> Intervals { get; set; } = new(StringComparer.Ordinal);
}
