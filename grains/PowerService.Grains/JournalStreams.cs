namespace PowerService.Grains;

/// <summary>Journal stream ids name the kind of entity they belong to (<c>order:{id}</c>, <c>crew:{id}</c>, <c>area:{id}</c>, <c>outage:{id}</c>, <c>customer:{id}</c>…), so a
/// reader of the whole journal (live feeds, indicators) knows what each event is about without parsing payloads.</summary>
public static class JournalStreams
{
    private const string OrderPrefix = "order:";
    private const string CrewPrefix = "crew:";
    private const string AreaPrefix = "area:";
    private const string OutagePrefix = "outage:";
    private const string PlannedOutagePrefix = "planned-outage:";
    private const string CustomerPrefix = "customer:";

    public static string Order(string orderId) => OrderPrefix + orderId;

    public static string Crew(string crewId) => CrewPrefix + crewId;

    /// <summary>A transformer area's own events: outage history, line loss, voltage quality.</summary>
    public static string Area(string areaId) => AreaPrefix + areaId;

    public static string Outage(string outageId) => OutagePrefix + outageId;

    public static string PlannedOutage(string plannedOutageId) => PlannedOutagePrefix + plannedOutageId;

    /// <summary>A customer's own entries: their orders as each finished (<see cref="WorkOrders.CustomerOrderHistory"/>).</summary>
    public static string Customer(string customerId) => CustomerPrefix + customerId;

    public static bool TryArea(string streamId, out string areaId) => TryKey(streamId, AreaPrefix, out areaId);

    public static bool TryOutage(string streamId, out string outageId) => TryKey(streamId, OutagePrefix, out outageId);

    public static bool TryOrder(string streamId, out string orderId) => TryKey(streamId, OrderPrefix, out orderId);

    public static bool TryCrew(string streamId, out string crewId) => TryKey(streamId, CrewPrefix, out crewId);

    public static bool TryPlannedOutage(string streamId, out string plannedOutageId) => TryKey(streamId, PlannedOutagePrefix, out plannedOutageId);

    private static bool TryKey(string streamId, string prefix, out string key)
    {
        key = streamId.StartsWith(prefix, StringComparison.Ordinal) ? streamId[prefix.Length..] : "";
        return key.Length > 0;
    }
}

/// <summary>One journaled event of an outage's or a planned outage's history, as their history endpoints give it: what
/// happened, when, who did it (<c>role:name</c>, <c>meters</c>, <c>system</c>) and its payload as written.</summary>
public sealed record JournalEntry(long Sequence, string Type, DateTimeOffset At, string? Actor, string? Location, string PayloadJson)
{
    private const int MaxHistory = 100_000;

    /// <summary>The events of <paramref name="streamId"/>, oldest first.</summary>
    public static async Task<IReadOnlyList<JournalEntry>> HistoryAsync(Runtime.IJournal journal, string streamId) =>
        [.. (await journal.ReadStreamAsync(streamId, 0, MaxHistory)).Select(e => new JournalEntry(e.Sequence, e.EventType, e.OccurredAt, e.Actor, e.Location, e.PayloadJson))];
}
