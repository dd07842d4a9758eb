namespace PowerService.Grains.Energy;

/// <summary>Line loss and voltage quality settings (configuration section <c>Workflow:Energy</c>). Defaults and why:
/// docs/line-loss.md.</summary>
public sealed class EnergyOptions
{
    /// <summary>The line-loss period: one day, as the daily line-loss rate (日线损率) is reckoned.</summary>
    public TimeSpan Period { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Offset of the local time periods start in: China Standard Time, so a day runs from local midnight.</summary>
    public TimeSpan UtcOffset { get; set; } = TimeSpan.FromHours(8);

    /// <summary>The interval of meter readings (the AMI load curve: 96 points a day). A reading's interval end is
    /// rounded to it, so a reading is counted once per meter and interval.</summary>
    public TimeSpan ReadingInterval { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How long after its end a period waits for late readings before its loss is measured.</summary>
    public TimeSpan CloseDelay { get; set; } = TimeSpan.FromHours(2);

    /// <summary>A loss rate above this is high loss (高损).</summary>
    public double HighLossRate { get; set; } = 0.10;

    /// <summary>A loss rate below this is negative loss (负损): the customers' meters recorded more than was supplied.</summary>
    public double NegativeLossRate { get; set; }

    /// <summary>Below this share of customer meters reporting in a period, its loss is flagged as incomplete.</summary>
    public double MinCoverage { get; set; } = 1.0;

    /// <summary>How many measured periods an area keeps in its view (the journal keeps them all).</summary>
    public int RecentPeriods { get; set; } = 7;

    /// <summary>Nominal single-phase voltage, volts.</summary>
    public double NominalVoltage { get; set; } = 220;

    /// <summary>Allowed deviation above nominal (GB/T 12325: +7% for 220 V single phase).</summary>
    public double VoltageHighLimit { get; set; } = 0.07;

    /// <summary>Allowed deviation below nominal (GB/T 12325: −10% for 220 V single phase).</summary>
    public double VoltageLowLimit { get; set; } = 0.10;
}
