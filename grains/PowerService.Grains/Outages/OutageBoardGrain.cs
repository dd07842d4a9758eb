using PowerService.Grains.Topology;
using PowerService.Runtime;

namespace PowerService.Grains.Outages;

/// <summary>The command center's outage board (key: <see cref="OutageBoardGrain.Key"/>): one compact summary per
/// active outage, and the most recently restored ones, for the outage list and the outage map (停电地图). Outages
/// report each change; the board never scans. Written behind, at most once a second: the outages themselves are
/// durable and re-report on their next change.</summary>
public interface IOutageBoardGrain : IGrain
{
    /// <summary>One-way: an outage's change is done once stored; the board is a view of it (a later query from the
    /// same caller still sees it, being queued after it).</summary>
    [OneWay]
    Task Update(OutageSummary summary);

    /// <summary>One page of outages, newest first; <paramref name="active"/> false lists the restored ones.</summary>
    Task<OutagePage> List(OutageQuery query);
}

/// <param name="ContinuationToken">Where the page starts (<see cref="ListPosition"/>): the last page's token.</param>
public sealed record OutageQuery(
    bool Active = true, string? Region = null, string? TransformerAreaId = null, string? MeterId = null, int Skip = 0, int Take = 100, string? ContinuationToken = null);

/// <summary>A page of outages, newest first; <paramref name="ContinuationToken"/> null on the last page.</summary>
public sealed record OutagePage(int Total, IReadOnlyList<OutageSummary> Items, string? ContinuationToken = null);

/// <summary>What the list and the map show of one outage: with the repair order that fixes it and its crew, so a
/// console shows them from its first load (rows stored before they were kept read null until the outage's next change).</summary>
public sealed record OutageSummary(
    string Id,
    OutageKind Kind,
    OutageScope Scope,
    OutageState State,
    string Region,
    string? FeederId,
    IReadOnlyList<string> TransformerAreaIds,
    IReadOnlyList<string>? MeterIds,
    int AffectedCustomers,
    int ImportantCustomers,
    GeoPoint Location,
    DateTimeOffset StartedAt,
    DateTimeOffset? EstimatedRestorationAt,
    DateTimeOffset? RestoredAt,
    string? ParentOutageId,
    int MergedCalls,
    string? RepairOrderId = null,
    string? CrewId = null)
{
    internal static OutageSummary Of(OutageRecord o) => new(
        o.Id, o.Kind, o.Scope, o.State, o.Region, o.FeederId, o.TransformerAreaIds, o.MeterIds, o.AffectedCustomers,
        o.ImportantCustomers.Count, o.Location, o.StartedAt, o.EstimatedRestorationAt, o.RestoredAt, o.ParentOutageId, o.MergedCalls,
        o.RepairOrderId, o.CrewId);

    /// <summary>Whether the outage cuts the customer on <paramref name="meterId"/> in <paramref name="areaId"/>.</summary>
    public bool Affects(string areaId, string? meterId) =>
        TransformerAreaIds.Contains(areaId) && (MeterIds is null || (meterId is not null && MeterIds.Contains(meterId)));
}

[GrainType("OutageBoard")]
internal sealed class OutageBoardGrain(IPersistentState<OutageBoardRecord> state) : Grain, IOutageBoardGrain
{
    public const string Key = "all";

    /// <summary>Restored outages kept for the list after they end.</summary>
    private const int RestoredKept = 2_000;
    private const int MaxTake = 1_000;
    private static readonly TimeSpan FlushDelay = TimeSpan.FromSeconds(1);

    private WriteBehind _board = null!;

    private OutageBoardRecord Board => state.State;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _board = new WriteBehind(() => state.WriteStateAsync(), RegisterTimer, FlushDelay);
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => Flush();

    public Task Update(OutageSummary summary)
    {
        if (summary.State == OutageState.Restored)
        {
            Board.Active.Remove(summary.Id);
            Boards.AddFinished(Board.Restored, summary, r => r.Id == summary.Id, RestoredKept);
        }
        else
        {
            Board.Active[summary.Id] = summary;
        }
        _board.Changed();
        return Task.CompletedTask;
    }

    public Task<OutagePage> List(OutageQuery query)
    {
        Boards.CheckPage(query.Skip, query.Take, MaxTake);
        IEnumerable<OutageSummary> source = query.Active ? Board.Active.Values : Board.Restored;
        var matching = source
            .Where(o => query.Region is null || o.Region == query.Region)
            .Where(o => query.TransformerAreaId is null || o.Affects(query.TransformerAreaId, query.MeterId))
            .OrderByDescending(o => o.StartedAt)
            .ThenBy(o => o.Id, StringComparer.Ordinal)
            .ToList();
        var (items, next) = ListPosition.Page(matching, o => new ListPosition(ListPosition.Newest(o.StartedAt), o.Id), query.ContinuationToken, query.Skip, query.Take);
        return Task.FromResult(new OutagePage(matching.Count, items, next));
    }

    private Task Flush() => _board.FlushAsync();
}

internal sealed class OutageBoardRecord
{
    public Dictionary<string, OutageSummary> Active { get; set; } = new(StringComparer.Ordinal);
    public List<OutageSummary> Restored { get; set; } = [];
}
