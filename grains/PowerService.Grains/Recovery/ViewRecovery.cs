using System.Diagnostics;
using Microsoft.Extensions.Logging;
using PowerService.Grains.WorkOrders;
using PowerService.Runtime;

namespace PowerService.Grains.Recovery;

/// <summary>Puts the views that mirror work orders right after a crash. Orders are the truth: each change is stored
/// with its journal events in one transaction before it is acknowledged. The views built from their reports — a crew's
/// order list (what its PDA shows), the region's order index (the dispatch console and <c>GET /api/work-orders</c>),
/// dispatch's backlog — are written behind, a second or two after a change, so a crash loses their last seconds: a
/// crew's accepted order vanished from its PDA, an order waiting for a crew was never offered again.
/// <para>Every <see cref="RecoveryOptions.CheckpointInterval"/> this service records a checkpoint: the journal's end as it was one
/// interval before, long after every view has stored what it heard until then. On start it reads the journal after the
/// checkpoint and asks each order changed there to tell its views again (<see cref="IWorkOrderGrain.Reannounce"/>,
/// idempotent), before the silo takes calls. After a clean stop that is the last interval's orders, told what their
/// views already hold. A crew list that still holds an order that has left it is put right by the crew itself when it
/// activates (<see cref="IWorkOrderGrain.ConfirmToCrew"/>). Live counts are deltas and not rebuilt here (they may
/// drift by a crash's last second; see <c>docs/workflow.md</c>).</para></summary>
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
        var orders = new HashSet<string>(StringComparer.Ordinal);
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
                if (stored.Sequence <= end && JournalStreams.TryOrder(stored.StreamId, out var orderId))
                {
                    orders.Add(orderId);
                }
            }
            after = page[^1].Sequence;
        }
        var failed = 0;
        await Parallel.ForEachAsync(
            orders, new ParallelOptions { MaxDegreeOfParallelism = options.OrdersInFlight, CancellationToken = cancellationToken }, async (orderId, _) =>
            {
                try
                {
                    await silo.GetGrain<IWorkOrderGrain>(orderId).Reannounce();
                }
                catch (Exception error) when (error is not OperationCanceledException)
                {
                    Interlocked.Increment(ref failed);
                    LogReannounceFailed(logger, error, orderId);
                }
            });
        LastReplay = new ViewReplay(orders.Count, from, end, failed, Stopwatch.GetElapsedTime(started));
        LogReplayed(logger, orders.Count, from, end, failed, LastReplay.Elapsed.TotalMilliseconds);
    }

    private async Task KeepCheckpointAsync(Silo silo, IRecoveryCheckpointGrain checkpoint, long sample)
    {
        using var timer = new PeriodicTimer(options.CheckpointInterval, silo.TimeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                try
                {
                    // What was journaled a whole interval ago has been in the views' stored state for many seconds.
                    await checkpoint.Advance(sample);
                    sample = await silo.Storage.LastEventSequenceAsync(_stop.Token);
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Recovery: {Orders} work orders changed after journal sequence {From} (up to {End}) told their crews, order index and dispatch again ({Failed} failed) in {Milliseconds:0} ms")]
    private static partial void LogReplayed(ILogger logger, int orders, long from, long end, int failed, double milliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recovery: work order {OrderId} could not tell its views again")]
    private static partial void LogReannounceFailed(ILogger logger, Exception error, string orderId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recovery: the checkpoint could not be moved; it stays where it was")]
    private static partial void LogCheckpointFailed(ILogger logger, Exception error);
}
