using PowerService.Grains.Energy;
using PowerService.Grains.Outages;
using PowerService.Runtime;

namespace PowerService.Grains.Indicators;

/// <summary>The service-quality indicators of one region (key: region id), or of the whole system (key
/// <see cref="IndicatorScopes.System"/>), kept from facts the outages, work orders and transformer areas report as they happen,
/// counted per local month. Definitions: docs/indicators.md.</summary>
public interface IRegionIndicatorsGrain : IGrain
{
    /// <summary>An outage ended; reported again after a crash, counted once per outage id.</summary>
    Task OutageRestored(OutageFact outage);

    /// <summary>What one stored change of a work order counts for (clocks met or breached, a complaint received, a
    /// new connection completed, a callback made); a fact whose key was seen recently is not counted again. One-way:
    /// the order's change is done once stored.</summary>
    [OneWay]
    Task OrderFacts(IReadOnlyList<OrderFact> facts);

    /// <summary>A transformer area's period closed with this line loss; counted once per area and period.</summary>
    Task LineLossMeasured(string transformerAreaId, LineLossMeasured measured);

    /// <summary>The indicators for the local months <paramref name="from"/> to <paramref name="to"/> (<c>yyyy-MM</c>,
    /// both included; the current month when null). Throws <see cref="InvalidFieldException"/> naming <c>from</c> or
    /// <c>to</c> for a bad month or a range that ends before it starts, and <see cref="EntityNotFoundException"/> for a
    /// region no feeder of the topology names.</summary>
    Task<ServiceIndicators> Get(string? from = null, string? to = null);
}

public static class IndicatorScopes
{
    /// <summary>The key of the whole-system figures: every fact reported to a region is reported here too. No region
    /// is named so (<see cref="RegionNames"/>), so none shares its grain.</summary>
    public const string System = RegionNames.Every;

    /// <summary>The grains a fact of <paramref name="region"/> is reported to: the region's and the system's.</summary>
    public static IEnumerable<IRegionIndicatorsGrain> Of(IGrainFactory grains, string region) =>
        [grains.GetGrain<IRegionIndicatorsGrain>(region), grains.GetGrain<IRegionIndicatorsGrain>(System)];
}

/// <summary>One ended outage as the indicators count it: <paramref name="Customers"/> lost supply from
/// <paramref name="InterruptedFrom"/> to <paramref name="RestoredAt"/>. <paramref name="NewInterruption"/> is false for
/// meters still dark after their area came back: the same interruption, lasting longer (only minutes count).
/// <paramref name="Momentary"/>: restored within <see cref="Outages.OutageOptions.MomentaryAtMost"/> of its start, counted
/// apart (neither an interruption nor minutes in the reliability indices).</summary>
public sealed record OutageFact(
    string OutageId,
    OutageKind Kind,
    IReadOnlyList<string> TransformerAreaIds,
    int Customers,
    DateTimeOffset InterruptedFrom,
    DateTimeOffset RestoredAt,
    bool NewInterruption,
    bool Momentary = false);

public enum OrderFactKind
{
    /// <summary>An SLA clock stopped before it was due.</summary>
    ClockMet,

    /// <summary>An SLA clock passed its due time (counted once, whether the work is done late or never).</summary>
    ClockBreached,

    ComplaintReceived,

    /// <summary>A new connection (业扩) was resolved for the first time; <see cref="OrderFact.WorkingDays"/> is how long it took.</summary>
    NewConnectionCompleted,

    CallbackSatisfied,
    CallbackDissatisfied,
    CallbackUnreachable,
}

/// <summary>One countable fact of a work order, at the moment it counts for (its month bucket); <paramref name="Key"/>
/// is unique per fact so that a repeated report is not counted twice.</summary>
public sealed record OrderFact(string Key, OrderFactKind Kind, DateTimeOffset At, double? WorkingDays = null);

/// <summary>The indicators of one scope over local months <paramref name="From"/>..<paramref name="To"/>.</summary>
public sealed record ServiceIndicators(
    string Region,
    string From,
    string To,
    long CustomersServed,
    ReliabilityIndicators Reliability,
    OnTimeIndicators OnTime,
    ComplaintIndicators Complaints,
    NewConnectionIndicators NewConnections,
    RepeatedOutageIndicators RepeatedOutages,
    CallbackIndicators Callbacks,
    LineLossIndicators LineLoss,
    DateTimeOffset AsOf);

/// <summary>SAIFI (interruptions per customer), SAIDI and CAIDI in minutes, ASAI as a share of customer minutes
/// supplied; null where the denominator is zero. Planned and unplanned SAIDI add up to SAIDI.</summary>
public sealed record ReliabilityIndicators(
    int Outages,
    long CustomerInterruptions,
    double CustomerInterruptionMinutes,
    double? Saifi,
    double? SaidiMinutes,
    double? CaidiMinutes,
    double? Asai,
    double? UnplannedSaidiMinutes,
    double? PlannedSaidiMinutes,
    long MomentaryInterruptions = 0);

/// <summary>SLA clocks settled in the period: met on time, or breached; <paramref name="Rate"/> = met / (met + breached).</summary>
public sealed record OnTimeIndicators(long Met, long Breached, double? Rate);

public sealed record ComplaintIndicators(long Received, double? PerMillionCustomers);

public sealed record NewConnectionIndicators(long Completed, double? AverageWorkingDays);

/// <summary>Customers cut at least <paramref name="Threshold"/> times by outages that ended in the period.</summary>
public sealed record RepeatedOutageIndicators(int Threshold, int Customers);

/// <summary><paramref name="SatisfactionRate"/> = satisfied / (satisfied + dissatisfied); unreachable attempts are not in it.</summary>
public sealed record CallbackIndicators(long Satisfied, long Dissatisfied, long Unreachable, double? SatisfactionRate);

/// <summary>Line loss over the periods measured in the period: (supply − delivered) / supply. Periods flagged
/// negative loss, incomplete coverage or without a supply reading are excluded (counted in <paramref name="ExcludedPeriods"/>).</summary>
public sealed record LineLossIndicators(
    long MeasuredPeriods, long HighLossPeriods, long ExcludedPeriods, double SupplyKwh, double DeliveredKwh, double? LossRate);
