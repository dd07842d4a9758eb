namespace PowerService.Grains.Sla;

/// <summary>Promised service times (configuration section <c>Workflow:Sla</c>); defaults are DESIGN.md §5.</summary>
public sealed class SlaOptions
{
    /// <summary>Offset of the utility's local time (China: +08:00), used by the working-day calendar.</summary>
    public TimeSpan LocalUtcOffset { get; set; } = TimeSpan.FromHours(8);

    /// <summary>Share of a limit at which a warning fires.</summary>
    public double WarnAtShare { get; set; } = 0.8;
}
