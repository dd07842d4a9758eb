namespace PowerService.Grains.Indicators;

/// <summary>Indicator settings (configuration section <c>Workflow:Indicators</c>); why these defaults: docs/indicators.md.</summary>
public sealed class IndicatorOptions
{
    /// <summary>A customer cut this many times in the period counts as having repeated outages: three cuts within
    /// two months is what the 95598 complaint classification calls frequent outage (频繁停电).</summary>
    public int RepeatedOutageCuts { get; set; } = 3;

    /// <summary>How many recent fact keys a scope remembers to drop a repeated report. Repeats come from a reporter
    /// retrying shortly after its own write, so a short memory suffices.</summary>
    public int RecentFactsKept { get; set; } = 4_096;
}
