namespace PowerService.Grains.Energy;

/// <summary>Where a reading falls: its interval end is rounded to the reading interval (a meter clock a few seconds
/// off still lands on its interval), and the interval belongs to the period it lies in, so the reading ending at
/// midnight closes the day before. Periods and intervals are aligned in local time (<see cref="EnergyOptions.UtcOffset"/>).</summary>
public sealed class EnergyPeriods
{
    private readonly long _periodTicks;
    private readonly long _intervalTicks;
    private readonly TimeSpan _offset;

    public EnergyPeriods(EnergyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.ReadingInterval <= TimeSpan.Zero || options.Period < options.ReadingInterval || options.Period.Ticks % options.ReadingInterval.Ticks != 0)
        {
            throw new ArgumentException("The energy period must be a positive whole number of reading intervals.", nameof(options));
        }
        if (options.UtcOffset.Duration() > TimeSpan.FromHours(14) || options.UtcOffset.Ticks % TimeSpan.TicksPerMinute != 0)
        {
            throw new ArgumentException("The energy UTC offset must be whole minutes within ±14 hours.", nameof(options));
        }
        if (options.CloseDelay < TimeSpan.Zero || options.RecentPeriods < 0 || options.NominalVoltage <= 0
            || options.VoltageHighLimit < 0 || options.VoltageLowLimit is < 0 or >= 1 || options.MinCoverage is < 0 or > 1)
        {
            throw new ArgumentException("The energy settings are out of range (see docs/line-loss.md).", nameof(options));
        }
        Options = options;
        _periodTicks = options.Period.Ticks;
        _intervalTicks = options.ReadingInterval.Ticks;
        _offset = options.UtcOffset;
        IntervalsPerPeriod = (int)(_periodTicks / _intervalTicks);
    }

    public EnergyOptions Options { get; }

    public int IntervalsPerPeriod { get; }

    /// <summary>The start of the period the interval ending near <paramref name="at"/> lies in, and the interval's
    /// index in it (0 = the first interval of the period).</summary>
    public (DateTimeOffset PeriodStart, int Interval) Locate(DateTimeOffset at)
    {
        var end = LocalIntervalEnd(at);
        var start = (end - 1) / _periodTicks * _periodTicks;
        return (new DateTimeOffset(start, _offset), (int)((end - start) / _intervalTicks) - 1);
    }

    /// <summary>The end of the interval a reading taken at <paramref name="at"/> closes (the nearest interval boundary).</summary>
    public DateTimeOffset IntervalEnd(DateTimeOffset at) => new(LocalIntervalEnd(at), _offset);

    private long LocalIntervalEnd(DateTimeOffset at)
    {
        var local = at.UtcTicks + _offset.Ticks;
        return (local + _intervalTicks / 2) / _intervalTicks * _intervalTicks;
    }

    public DateTimeOffset EndOf(DateTimeOffset periodStart) => periodStart + Options.Period;

    /// <summary>When a period's loss is measured: its end plus the delay for late readings.</summary>
    public DateTimeOffset ClosesAt(DateTimeOffset periodStart) => EndOf(periodStart) + Options.CloseDelay;
}
