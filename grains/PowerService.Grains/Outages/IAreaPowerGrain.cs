using PowerService.Grains.Ami;
using PowerService.Runtime;

namespace PowerService.Grains.Outages;

/// <summary>The supply side of one transformer area (key: area id): which of its meters are dark, and the outage
/// inferred from them. The AMI ingestion path hands it its meters' events in batches.</summary>
public interface IAreaPowerGrain : IGrain
{
    /// <summary>Applies meter events (any type, any order); an event already applied (same meter and event id, or
    /// older than the meter's newest) is absorbed. Readings are passed on to the area's energy grain.</summary>
    Task<PowerReport> ReportMeterEvents(IReadOnlyList<MeterEvent> events);

    /// <summary>What a fault call from a customer on <paramref name="meterId"/> is: part of a known outage, a meter
    /// that reports power (verify / customer side), or unknown (a repair of its own).</summary>
    Task<FaultCallClassification> ClassifyFaultCall(string meterId);

    Task<AreaPowerView> Get();

    /// <summary>The outage this area opened, or a planned outage it is part of, ended (restored by a crew or a
    /// dispatcher, by its own meters, or by the planned outage's close-out).</summary>
    Task OutageEnded(string outageId, DateTimeOffset restoredAt);

    /// <summary>A planned outage cut this area's supply: until it ends, last gasps are absorbed into it and fault calls
    /// merge into it; its meters coming back do not end it (its close-out does). An area already inside an outage of
    /// its own keeps that one.</summary>
    Task PlannedOutageStarted(string outageId);
}

/// <summary>How many events of a batch changed something, and how many were duplicates or stale.</summary>
public readonly record struct PowerReport(int Applied, int Absorbed);

public enum FaultCallVerdict
{
    /// <summary>The customer is inside a known outage: the call merges into it.</summary>
    InOutage,

    /// <summary>The meter reports power: verify on site, likely a customer-side fault.</summary>
    MeterOn,

    /// <summary>Nothing known either way: a repair order of its own.</summary>
    Unknown,
}

public sealed record FaultCallClassification(FaultCallVerdict Verdict, string? OutageId = null);

/// <summary>An area's supply as its meters report it. <paramref name="NestedCheckAt"/>: when meters still dark after
/// the last restoration will be opened as a nested outage (null: no check pending).</summary>
public sealed record AreaPowerView(
    string TransformerAreaId, int Meters, int DarkMeters, string? OutageId, string? NestedOutageId, DateTimeOffset? LastEventAt, DateTimeOffset? NestedCheckAt);

/// <summary>The supply side of one 10 kV feeder (key: feeder id): rolls outages of its transformer areas up into one
/// feeder outage when enough of them are out at once.</summary>
public sealed record FeederOutageLink(string OutageId, string? RepairOrderId);

public interface IFeederPowerGrain : IGrain
{
    /// <summary>The feeder's outage while one is open, and the repair order that serves it: an area that goes out under
    /// it opens its outage inside it, without a repair order of its own.</summary>
    Task<FeederOutageLink?> OpenOutage();

    Task AreaOutageOpened(string transformerAreaId, string outageId, DateTimeOffset startedAt);

    Task AreaOutageEnded(string transformerAreaId, string outageId);

    /// <summary>The feeder outage ended (all its areas back, or restored by hand).</summary>
    Task FeederOutageEnded(string outageId);
}
