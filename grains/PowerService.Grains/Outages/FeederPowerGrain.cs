using Microsoft.Extensions.Logging;
using PowerService.Grains.Topology;
using PowerService.Runtime;

namespace PowerService.Grains.Outages;

/// <summary>Rolls area outages of one feeder up: when enough of its transformer areas are out inside the inference
/// window, one feeder outage is opened, confirmed (several areas dark at once is a feeder fault), and the area outages
/// become its children (their repair orders fold into the feeder's). Areas that go out later join it; it ends when
/// the last of them is back.</summary>
[GrainType("FeederPower")]
internal sealed partial class FeederPowerGrain(
    IPersistentState<FeederPowerRecord> state, OutageOptions options, OutageOpeningSlots openings, ILogger<FeederPowerGrain> logger)
    : Grain, IFeederPowerGrain
{
    private FeederPowerRecord S => state.State;

    private string Id => GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken) =>
        S.JoinsOwed.Count > 0 ? SettleJoins() : Task.CompletedTask;

    public async Task OpenAreaOutage(string transformerAreaId, string outageId, OutageOpening opening)
    {
        await openings.WaitAsync();
        try
        {
            await OpenAreaOutageInSlot(transformerAreaId, outageId, opening);
        }
        finally
        {
            openings.Release();
        }
    }

    private async Task OpenAreaOutageInSlot(string transformerAreaId, string outageId, OutageOpening opening)
    {
        // Under an open feeder outage the area's outage opens inside it and its repair order serves it: no order of its
        // own is created, dispatched and folded a moment later. The feeder decides it, one area at a time.
        if (S.FeederOutageId is { } feederOutage && S.OpeningOwed is null)
        {
            opening = opening with { ParentOutageId = feederOutage, RepairOrderId = OutageGrain.RepairOrderOf(feederOutage), Confirmed = true };
        }
        await GrainFactory.GetGrain<IOutageGrain>(outageId).Open(opening);
        await AreaOutageOpened(transformerAreaId, outageId, opening.StartedAt);
        await GrainFactory.GetGrain<IAreaPowerGrain>(transformerAreaId).OutageOpened(outageId);
    }

    private async Task AreaOutageOpened(string transformerAreaId, string outageId, DateTimeOffset startedAt)
    {
        if (S.ActiveAreas.TryGetValue(transformerAreaId, out var known) && known.OutageId == outageId)
        {
            await SettleJoins();
            return;
        }
        S.ActiveAreas[transformerAreaId] = new AreaOutageMark(outageId, startedAt);
        if (S.FeederOutageId is not null)
        {
            S.JoinsOwed.Add(transformerAreaId);
            await state.WriteStateAsync();
            await SettleJoins();
            return;
        }
        var profile = await GrainFactory.GetGrain<IFeederGrain>(Id).GetProfile();
        var areas = Math.Max(profile?.TransformerAreaIds.Count ?? 0, 1);
        var needed = Math.Max(options.MinimumFeederAreas, (int)Math.Ceiling(options.FeederShare * areas));
        var window = options.InferenceWindow;
        var recent = S.ActiveAreas.Where(a => a.Value.StartedAt >= startedAt - window && a.Value.StartedAt <= startedAt + window).ToList();
        if (recent.Count < needed)
        {
            await state.WriteStateAsync();
            return;
        }
        var feederOutage = $"OUT-F-{Id}-{++S.Outages}";
        S.FeederOutageId = feederOutage;
        S.JoinsOwed.AddRange(S.ActiveAreas.Keys);
        S.OpeningOwed = new OutageOpening(
            OutageKind.Unplanned, OutageScope.Feeder, AreaPowerGrain.MetersActor, recent.Min(a => a.Value.StartedAt),
            [.. S.ActiveAreas.Keys.Order(StringComparer.Ordinal)], Id, Confirmed: true,
            Cause: $"{S.ActiveAreas.Count} of {areas} transformer areas on feeder {Id} out at once");
        LogRolledUp(logger, Id, feederOutage, S.ActiveAreas.Count, areas);
        await state.WriteStateAsync();
        await SettleJoins();
    }

    public async Task AreaOutageEnded(string transformerAreaId, string outageId, DateTimeOffset restoredAt)
    {
        if (!S.ActiveAreas.TryGetValue(transformerAreaId, out var known) || known.OutageId != outageId)
        {
            return;
        }
        S.ActiveAreas.Remove(transformerAreaId);
        S.JoinsOwed.Remove(transformerAreaId);
        var feederOutage = S.FeederOutageId;
        if (feederOutage is not null)
        {
            // Areas report in any order (a head-end's backlog): the feeder is back when its last area is, by the meters.
            S.LatestAreaBackAt = S.LatestAreaBackAt is { } latest && latest > restoredAt ? latest : restoredAt;
        }
        var backAt = S.LatestAreaBackAt ?? restoredAt;
        if (feederOutage is not null && S.ActiveAreas.Count == 0)
        {
            S.FeederOutageId = null;
            S.LatestAreaBackAt = null;
        }
        await state.WriteStateAsync();
        if (feederOutage is not null && S.FeederOutageId is null)
        {
            // At the meters' time, not when the last area's events were applied: a backlog delivered two days late
            // showed a two-hour feeder outage as 54 hours.
            await GrainFactory.GetGrain<IOutageGrain>(feederOutage).RestoreAsOf(AreaPowerGrain.MetersActor, backAt);
        }
    }

    public async Task FeederOutageEnded(string outageId)
    {
        if (S.FeederOutageId == outageId)
        {
            S.FeederOutageId = null;
            S.LatestAreaBackAt = null;
            S.JoinsOwed.Clear();
            await state.WriteStateAsync();
        }
    }

    /// <summary>Opens the feeder outage if owed, then makes each owed area outage its child; all idempotent.</summary>
    private async Task SettleJoins()
    {
        if (S.FeederOutageId is not { } feederOutageId)
        {
            return;
        }
        var feederOutage = GrainFactory.GetGrain<IOutageGrain>(feederOutageId);
        var view = S.OpeningOwed is { } opening ? await feederOutage.Open(opening) : await feederOutage.Get();
        S.OpeningOwed = null;
        foreach (var area in S.JoinsOwed.ToList())
        {
            if (S.ActiveAreas.TryGetValue(area, out var mark))
            {
                await feederOutage.ChildOpened(mark.OutageId, area);
                await GrainFactory.GetGrain<IOutageGrain>(mark.OutageId).JoinFeederOutage(feederOutageId, view?.RepairOrderId);
            }
            S.JoinsOwed.Remove(area);
        }
        await state.WriteStateAsync();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Feeder {Feeder}: outage {Outage} rolled up from {Out} of {Areas} transformer areas")]
    private static partial void LogRolledUp(ILogger logger, string feeder, string outage, int @out, int areas);
}

/// <summary>The silo's bound on area outages being opened at once (<see cref="OutageOptions.OpeningsInFlight"/>).</summary>
internal sealed class OutageOpeningSlots(OutageOptions options)
{
    private readonly SemaphoreSlim _slots = new(options.OpeningsInFlight);

    public Task WaitAsync() => _slots.WaitAsync();

    public void Release() => _slots.Release();
}

internal sealed record AreaOutageMark(string OutageId, DateTimeOffset StartedAt);

internal sealed class FeederPowerRecord
{
    public Dictionary<string, AreaOutageMark> ActiveAreas { get; set; } = new(StringComparer.Ordinal);
    public int Outages { get; set; }
    public string? FeederOutageId { get; set; }

    /// <summary>The latest time an area of the open feeder outage came back (the meters' time).</summary>
    public DateTimeOffset? LatestAreaBackAt { get; set; }

    public OutageOpening? OpeningOwed { get; set; }
    public List<string> JoinsOwed { get; set; } = [];
}
