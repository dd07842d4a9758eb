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

    /// <summary>What fault call <paramref name="orderId"/> from a customer on <paramref name="meterId"/> is: part of a
    /// known outage, a meter that reports power (verify / customer side), or unknown (a repair of its own). An unknown
    /// call is remembered for a while: if the area's outage is inferred soon after (the call came before the meters'
    /// last gasps did), the outage folds the call into itself (<see cref="OutageOptions.CallsBeforeOutage"/>).</summary>
    Task<FaultCallClassification> ClassifyFaultCall(string meterId, string orderId);

    /// <summary>Unknown fault call <paramref name="orderId"/>, made at <paramref name="calledAt"/>, after a crash: the
    /// area's memory of calls is written behind, so the crash may have taken it. Remembered again (once), or, when the
    /// area's unplanned outage opened since without it, that outage's id: the call joins it (a call acknowledged seconds
    /// before a crash stayed a repair of its own beside the outage's).</summary>
    Task<string?> CallRecovered(string meterId, string orderId, DateTimeOffset calledAt);

    Task<AreaPowerView> Get();

    /// <summary>Whether <paramref name="meterId"/>'s last word was a last gasp (dark now, as far as the area heard): a
    /// customer whose area came back is told their own supply is not back yet, before any nested outage opens for it.</summary>
    Task<bool> IsDark(string meterId);

    /// <summary>The outage this area opened, or a planned outage it is part of, ended (restored by a crew or a
    /// dispatcher, by its own meters, or by the planned outage's close-out). One-way: the outage tells it from its
    /// restoring turn, while the area may itself be waiting on that outage (its meters came back at the same moment and
    /// it is telling the outage so); an outage the area has ended already is ignored.</summary>
    [OneWay]
    Task OutageEnded(string outageId, DateTimeOffset restoredAt);

    /// <summary>A planned outage cut this area's supply: until it ends, last gasps are absorbed into it and fault calls
    /// merge into it; its meters coming back do not end it (its close-out does). An area already inside an outage of
    /// its own keeps that one.</summary>
    Task PlannedOutageStarted(string outageId);

    /// <summary>The feeder opened the outage this area handed it (one-way, the hand-over's acknowledgement): calls to
    /// the outage that waited for its opening (confirm, restore) are made now.</summary>
    [OneWay]
    Task OutageOpened(string outageId);
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
/// the last restoration will be opened as a nested outage (null: no check pending). <paramref name="OutageOpening"/>:
/// the area inferred an outage and its feeder has not yet acknowledged opening it (a moment, unless the feeder is
/// unreachable).</summary>
public sealed record AreaPowerView(
    string TransformerAreaId, int Meters, int DarkMeters, string? OutageId, string? NestedOutageId, DateTimeOffset? LastEventAt, DateTimeOffset? NestedCheckAt,
    bool OutageOpening);

/// <summary>The supply side of one 10 kV feeder (key: feeder id): opens the outages its transformer areas infer, and
/// rolls them up into one feeder outage when enough of them are out at once.</summary>
public interface IFeederPowerGrain : IGrain
{
    /// <summary>An area of this feeder inferred an outage (stored on its side as owed): the feeder opens it — inside its
    /// own outage while one is open, served by that outage's repair order — counts it towards the roll-up, and
    /// acknowledges with <see cref="IAreaPowerGrain.OutageOpened"/>. One-way: the area's meter events are not held up
    /// while the outage, its repair order and the roll-up are settled; idempotent, so the area may send it again.</summary>
    [OneWay]
    Task OpenAreaOutage(string transformerAreaId, string outageId, OutageOpening opening);

    /// <summary>The area's outage <paramref name="outageId"/> ended, its power back at <paramref name="restoredAt"/> (the
    /// meters' time); the feeder outage ends with its last area, at the latest of its areas' times.</summary>
    Task AreaOutageEnded(string transformerAreaId, string outageId, DateTimeOffset restoredAt);

    /// <summary>The feeder outage ended (all its areas back, or restored by hand). One-way: the feeder outage tells it
    /// from its restoring turn, while the feeder may itself be waiting on that outage (joining an area to it).</summary>
    [OneWay]
    Task FeederOutageEnded(string outageId);
}
