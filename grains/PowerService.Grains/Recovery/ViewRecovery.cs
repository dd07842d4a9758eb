using System.Diagnostics;
using Microsoft.Extensions.Logging;
using PowerService.Grains.Crews;
using PowerService.Grains.Outages;
using PowerService.Grains.PlannedOutages;
using PowerService.Grains.WorkOrders;
using PowerService.Runtime;

namespace PowerService.Grains.Recovery;

/// <summary>Puts the views written behind right after a crash. Work orders, crews, outages and planned outages are the
/// truth: each change is stored with its journal events in one transaction before it is acknowledged. The views built
/// from their reports are written behind, a second or two after a change (dispatch's roster up to 30 s), so a crash
/// loses their last seconds: a crew's order list (what its PDA shows; an accepted order vanished from it), the region's
/// order index (the dispatch console and <c>GET /api/work-orders</c>), dispatch's backlog (an order waiting for a crew
/// was never offered again) and roster (a crew registered just before was offered nothing), the outage board (the
/// outage list and map: an outage inferred just before lost its place there) and the planned-outage calendar.
/// <para>Every <see cref="RecoveryOptions.CheckpointInterval"/> this service records a checkpoint: the journal's end as
/// it was at least <see cref="RecoveryOptions.CheckpointLag"/> before, after every view has stored what it heard until
/// then (the slowest, dispatch's roster, saves within 31 s). On start it reads the journal
/// after the checkpoint and asks each entity changed there to tell its views again (idempotent:
/// <see cref="IWorkOrderGrain.Reannounce"/>, <see cref="IFieldCrewGrain.Reannounce"/>, <see cref="IOutageGrain.Reannounce"/>,
/// <see cref="IPlannedOutageGrain.Reannounce"/>), before the silo takes calls. After a clean stop that is the last
/// interval's changes, told what their views already hold. A crew list that still holds an order that has left it is
/// put right by the crew itself when it activates (<see cref="IWorkOrderGrain.ConfirmToCrew"/>). A merged call counts in
/// its outage once (<see cref="IOutageGrain.MergedCallRecovered"/>), and an unknown call is remembered by its area again
/// (<see cref="Outages.IAreaPowerGrain.CallRecovered"/>). Live counts and indicators are deltas and not rebuilt here (they
/// may drift by a crash's last second; see <c>docs/workflow.md</c>).</para></summary>
internal sealed partial class ViewRecovery(RecoveryOptions options, ILogger<ViewRecovery> logger) : ISiloService
{
    public const string CheckpointKey = "views";

    private const int PageSize = 2000;

    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;

    /// <summary>What the replay at this silo's start did; null when there was nothing after the checkpoint (or no
    /// checkpoint yet: a new store).</summary>
    public ViewReplay? LastReplay { get; private set; }

    public async Task StartAsync(Silo silo, CancellationToken cancellationToken)
    {
        var checkpoint = silo.GetGrain<IRecoveryCheckpointGrain>(CheckpointKey);
        var end = await silo.Storage.LastEventSequenceAsync(cancellationToken);
        if (await checkpoint.Get() is { } from)
        {
            if (from < end)
            {
                await ReplayAsync(silo, from, end, cancellationToken);
            }
        }
        else
        {
            await checkpoint.Advance(end);
        }
        _loop = Task.Run(() => KeepCheckpointAsync(silo, checkpoint, end), CancellationToken.None);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }

    private async Task ReplayAsync(Silo silo, long after, long end, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var changed = new HashSet<Changed>();
        var from = after;
        while (after < end)
        {
            var page = await silo.Storage.ReadAllEventsAsync(after, PageSize, cancellationToken);
            if (page.Count == 0)
            {
                break;
            }
            foreach (var stored in page)
            {
                if (stored.Sequence <= end && Changed.Of(stored.StreamId) is { } entity)
                {
                    changed.Add(entity);
                }
            }
            after = page[^1].Sequence;
        }
        var failed = 0;
        await Parallel.ForEachAsync(
            changed, new ParallelOptions { MaxDegreeOfParallelism = options.OrdersInFlight, CancellationToken = cancellationToken }, async (entity, _) =>
            {
                try
                {
                    await entity.Reannounce(silo);
                }
                catch (Exception error) when (error is not OperationCanceledException)
                {
                    Interlocked.Increment(ref failed);
                    LogReannounceFailed(logger, error, entity.Kind.ToString(), entity.Id);
                }
            });
        LastReplay = new ViewReplay(
            changed.Count(c => c.Kind == ChangedKind.WorkOrder), changed.Count(c => c.Kind == ChangedKind.Crew), changed.Count(c => c.Kind == ChangedKind.Outage),
            changed.Count(c => c.Kind == ChangedKind.PlannedOutage), from, end, failed, Stopwatch.GetElapsedTime(started));
        LogReplayed(logger, LastReplay.Orders, LastReplay.Crews, LastReplay.Outages, LastReplay.PlannedOutages, from, end, failed, LastReplay.Elapsed.TotalMilliseconds);
    }

    private async Task KeepCheckpointAsync(Silo silo, IRecoveryCheckpointGrain checkpoint, long atStart)
    {
        var time = silo.TimeProvider;
        var journalEnds = new TrailingSequence(options.CheckpointLag);
        journalEnds.Sample(time.GetUtcNow(), atStart);
        using var timer = new PeriodicTimer(options.CheckpointInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                try
                {
                    var now = time.GetUtcNow();
                    journalEnds.Sample(now, await silo.Storage.LastEventSequenceAsync(_stop.Token));
                    if (journalEnds.Settled(now) is { } sequence)
                    {
                        await checkpoint.Advance(sequence);
                    }
                }
                catch (Exception error) when (error is not OperationCanceledException)
                {
                    // The store is down: the checkpoint stays where it was, so a crash now replays more, never less.
                    LogCheckpointFailed(logger, error);
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Recovery: {Orders} work orders, {Crews} crews, {Outages} outages and {PlannedOutages} planned outages changed after journal sequence {From} (up to {End}) told their views again ({Failed} failed) in {Milliseconds:0} ms")]
    private static partial void LogReplayed(ILogger logger, int orders, int crews, int outages, int plannedOutages, long from, long end, int failed, double milliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recovery: {Kind} {Id} could not tell its views again")]
    private static partial void LogReannounceFailed(ILogger logger, Exception error, string kind, string id);

    private enum ChangedKind
    {
        WorkOrder,
        Crew,
        Outage,
        PlannedOutage,
    }

    /// <summary>An entity the journal changed, named by its stream, with the call that has it tell its views again.</summary>
    private readonly record struct Changed(ChangedKind Kind, string Id)
    {
        public static Changed? Of(string streamId) =>
            JournalStreams.TryOrder(streamId, out var order) ? new Changed(ChangedKind.WorkOrder, order)
            : JournalStreams.TryCrew(streamId, out var crew) ? new Changed(ChangedKind.Crew, crew)
            : JournalStreams.TryOutage(streamId, out var outage) ? new Changed(ChangedKind.Outage, outage)
            : JournalStreams.TryPlannedOutage(streamId, out var plan) ? new Changed(ChangedKind.PlannedOutage, plan)
            : null;

        public Task Reannounce(Silo silo) => Kind switch
        {
            ChangedKind.WorkOrder => silo.GetGrain<IWorkOrderGrain>(Id).Reannounce(),
            ChangedKind.Crew => silo.GetGrain<IFieldCrewGrain>(Id).Reannounce(),
            ChangedKind.Outage => silo.GetGrain<IOutageGrain>(Id).Reannounce(),
            _ => silo.GetGrain<IPlannedOutageGrain>(Id).Reannounce(),
        };
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recovery: the checkpoint could not be moved; it stays where it was")]
    private static partial void LogCheckpointFailed(ILogger logger, Exception error);
}
