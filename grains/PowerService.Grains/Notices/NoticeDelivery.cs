using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using PowerService.Runtime;
using PowerService.Runtime.Storage;

namespace PowerService.Grains.Notices;

/// <summary>Takes notices out of the outbox and hands them to their channels, at least once: claims a batch with a
/// lease, delivers it grouped by channel, marks what the channels accepted. What failed, or was in flight when the
/// silo died, is claimed again when its lease runs out. A channel without an adapter is logged and its notices stay
/// in the outbox for an operator (they are offered again every lease until an adapter is configured).
/// Wakes at once when this silo enqueues notices; otherwise polls, backing off while idle.</summary>
internal sealed partial class NoticeDelivery(
    NoticeOptions options, NoticeSignal signal, NoticeMetrics metrics, IEnumerable<INoticeChannel> channels, ILogger<NoticeDelivery> logger)
    : ISiloService
{
    // The last adapter registered for a name wins: options and the host's services replace the file-backed default.
    private readonly Dictionary<string, INoticeChannel> _channels = channels
        .GroupBy(c => c.Name, StringComparer.Ordinal)
        .ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _abandon = new();
    private IStorageProvider _storage = null!;
    private TimeProvider _clock = TimeProvider.System;
    private Task _loop = Task.CompletedTask;
    private DateTimeOffset _nextTrim;

    /// <summary>How often delivered notices past <see cref="NoticeOptions.DeliveredKept"/> are deleted, and how many per
    /// transaction.</summary>
    private static readonly TimeSpan TrimInterval = TimeSpan.FromHours(1);
    private const int TrimBatch = 5_000;
    private const int TrimBatchesPerPass = 40;

    public Task StartAsync(Silo silo, CancellationToken cancellationToken)
    {
        options.Validate();
        foreach (var channel in _channels.Values.OfType<FileNoticeChannel>())
        {
            channel.CheckWritable();
        }
        _storage = silo.Storage;
        _clock = silo.TimeProvider;
        _loop = Task.Run(RunAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>Finishes the batch in flight, unless <paramref name="cancellationToken"/> fires first: then it is
    /// abandoned, and its notices come back when their lease runs out.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        await using (cancellationToken.Register(_abandon.Cancel))
        {
            await _loop;
        }
        _stop.Dispose();
        _abandon.Dispose();
    }

    private async Task RunAsync()
    {
        // A periodic timer remembers a tick that came while a batch was being delivered, so a clock step is never lost.
        using var poll = new PeriodicTimer(options.PollInterval, _clock);
        Task<bool>? tick = null;
        var idle = options.PollInterval;
        while (!_stop.IsCancellationRequested)
        {
            var wake = signal.Next();
            int claimed;
            try
            {
                claimed = await DeliverBatchAsync(_abandon.Token);
            }
            catch (OperationCanceledException) when (_abandon.IsCancellationRequested)
            {
                return;
            }
            catch (Exception error)
            {
                // The store is down (the provider has retried already): the next poll tries again.
                LogRoundFailed(logger, error);
                claimed = 0;
            }
            if (_clock.GetUtcNow() >= _nextTrim)
            {
                // Also on a silo that is never idle (notices every second): an hour's pass, between two batches.
                await TrimDeliveredAsync();
            }
            if (claimed == options.DeliveryBatchSize)
            {
                continue;
            }
            idle = claimed > 0 ? options.PollInterval : Min(idle * 2, options.MaxPollInterval);
            if (poll.Period != idle)
            {
                poll.Period = idle;
            }
            tick ??= poll.WaitForNextTickAsync(_stop.Token).AsTask();
            var woken = await Task.WhenAny(wake, tick);
            if (woken == tick)
            {
                tick = null;
            }
        }
    }

    /// <summary>Deletes the notices delivered more than <see cref="NoticeOptions.DeliveredKept"/> ago, a batch per
    /// transaction, at most <see cref="TrimBatchesPerPass"/> batches an hour (a month-old storm's million notices go
    /// over a few hours, never holding up today's).</summary>
    private async Task TrimDeliveredAsync()
    {
        var now = _clock.GetUtcNow();
        _nextTrim = now + TrimInterval;
        try
        {
            for (var batch = 0; batch < TrimBatchesPerPass && !_stop.IsCancellationRequested; batch++)
            {
                if (await _storage.DeleteDeliveredNotificationsAsync(now - options.DeliveredKept, TrimBatch, _abandon.Token) < TrimBatch)
                {
                    return;
                }
            }
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            LogTrimFailed(logger, error); // the next hour tries again
        }
        catch (OperationCanceledException) when (_abandon.IsCancellationRequested)
        {
        }
    }

    /// <summary>One claim, delivered channel by channel (in parallel) and marked. Returns how many were claimed.</summary>
    private async Task<int> DeliverBatchAsync(CancellationToken cancellationToken)
    {
        var claimed = await _storage.ClaimNotificationsAsync(options.DeliveryBatchSize, options.Lease, cancellationToken);
        if (claimed.Count == 0)
        {
            return 0;
        }
        metrics.BatchClaimed();
        var deliveries = new List<Task<IReadOnlyList<long>>>();
        foreach (var group in claimed.GroupBy(m => m.Channel, StringComparer.Ordinal))
        {
            var batch = group.Select(m => new NoticeMessage(m.Id, m.DeduplicationKey, m.Recipient, m.PayloadJson, m.Attempts)).ToList();
            if (_channels.TryGetValue(group.Key, out var channel))
            {
                deliveries.Add(DeliverAsync(channel, batch, cancellationToken));
            }
            else
            {
                metrics.Unrouted(group.Key, batch.Count);
                LogNoAdapter(logger, group.Key, batch.Count, options.Lease);
            }
        }
        var delivered = (await Task.WhenAll(deliveries)).SelectMany(ids => ids).ToList();
        await _storage.MarkNotificationsDeliveredAsync(delivered, cancellationToken);
        return claimed.Count;
    }

    /// <summary>The ids the channel accepted; the rest of the batch counts as failed.</summary>
    private async Task<IReadOnlyList<long>> DeliverAsync(INoticeChannel channel, List<NoticeMessage> batch, CancellationToken cancellationToken)
    {
        IReadOnlyList<long> accepted;
        try
        {
            var report = await channel.DeliverAsync(batch, cancellationToken);
            // Only ids of this batch: a confused adapter must not mark notices it never saw.
            var ids = batch.Select(m => m.Id).ToHashSet();
            accepted = [.. report.Delivered.Where(ids.Remove)];
        }
        catch (Exception error) when (error is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogChannelFailed(logger, error, channel.Name, batch.Count, options.Lease);
            accepted = [];
        }
        metrics.Delivered(channel.Name, accepted.Count);
        if (accepted.Count < batch.Count)
        {
            metrics.Failed(channel.Name, batch.Count - accepted.Count);
        }
        return accepted;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Notice delivery round failed; trying again at the next poll")]
    private static partial void LogRoundFailed(ILogger logger, Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Notice channel {Channel} failed for {Count} notices; they are offered again after the lease ({Lease})")]
    private static partial void LogChannelFailed(ILogger logger, Exception error, string channel, int count, TimeSpan lease);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivered notices past their retention could not be deleted; tried again in an hour")]
    private static partial void LogTrimFailed(ILogger logger, Exception error);

    [LoggerMessage(Level = LogLevel.Error, Message = "No adapter for notice channel {Channel}: {Count} notices stay in the outbox (offered again every {Lease}) until one is configured")]
    private static partial void LogNoAdapter(ILogger logger, string channel, int count, TimeSpan lease);
}

/// <summary>Counters of the notice delivery (meter <c>PowerService.Notices</c>), tagged by channel. The meter's scope is
/// the silo's service provider (<see cref="Silo.Services"/>), so a listener tells one silo's notices from another's in
/// the same process (tests run several).</summary>
internal sealed class NoticeMetrics : IDisposable
{
    public const string MeterName = "PowerService.Notices";

    private readonly Meter _meter;
    private readonly Counter<long> _enqueued;
    private readonly Counter<long> _delivered;
    private readonly Counter<long> _failed;
    private readonly Counter<long> _unrouted;
    private readonly Counter<long> _batches;

    public NoticeMetrics(IServiceProvider silo)
    {
        _meter = new Meter(new MeterOptions(MeterName) { Scope = silo });
        _enqueued = _meter.CreateCounter<long>("powerservice.notices.enqueued", "{notice}", "Customer notices added to the outbox");
        _delivered = _meter.CreateCounter<long>("powerservice.notices.delivered", "{notice}", "Notices a channel accepted");
        _failed = _meter.CreateCounter<long>("powerservice.notices.failed", "{notice}", "Notices a channel failed; retried after the lease");
        _unrouted = _meter.CreateCounter<long>("powerservice.notices.unrouted", "{notice}", "Notices claimed for a channel without an adapter");
        _batches = _meter.CreateCounter<long>("powerservice.notices.claimed_batches", "{batch}", "Batches claimed from the outbox");
    }

    public void Enqueued(int count) => _enqueued.Add(count);

    public void Delivered(string channel, int count) => _delivered.Add(count, new KeyValuePair<string, object?>("channel", channel));

    public void Failed(string channel, int count) => _failed.Add(count, new KeyValuePair<string, object?>("channel", channel));

    public void Unrouted(string channel, int count) => _unrouted.Add(count, new KeyValuePair<string, object?>("channel", channel));

    public void BatchClaimed() => _batches.Add(1);

    public void Dispose() => _meter.Dispose();
}
