using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using PowerService.Runtime.Diagnostics;

namespace PowerService.Runtime.Storage;

/// <summary>Group commit: callers enqueue single items and await their own outcome; writer loops take whatever has
/// queued up (up to a batch size) and commit it in one transaction. Under load, batches grow by themselves while a
/// commit is in flight, so throughput scales with load without adding latency when idle.
/// A batch that fails with <see cref="StorageUnavailableException"/> is retried whole with backoff; when retries run
/// out every item fails with that exception (the provider's transaction guarantees nothing was written).</summary>
internal sealed partial class GroupCommitQueue<TItem, TResult>
{
    private readonly Channel<Pending> _channel = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = false });
    private readonly Func<IReadOnlyList<TItem>, CancellationToken, Task<IReadOnlyList<TResult>>> _commit;
    private readonly string _operation;
    private readonly int _maxBatch;
    private readonly StorageRetryPolicy _retry;
    private readonly RuntimeMetrics _metrics;
    private readonly ILogger _logger;
    private readonly Task[] _writers;

    public GroupCommitQueue(
        string operation,
        Func<IReadOnlyList<TItem>, CancellationToken, Task<IReadOnlyList<TResult>>> commit,
        int maxBatch,
        int writers,
        StorageRetryPolicy retry,
        RuntimeMetrics metrics,
        ILogger logger)
    {
        _operation = operation;
        _commit = commit;
        _maxBatch = maxBatch;
        _retry = retry;
        _metrics = metrics;
        _logger = logger;
        _writers = new Task[writers];
        for (var i = 0; i < writers; i++)
        {
            _writers[i] = Task.Run(WriteLoop);
        }
    }

    public Task<TResult> Enqueue(TItem item)
    {
        var pending = new Pending(item, new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_channel.Writer.TryWrite(pending))
        {
            throw new SiloUnavailableException($"The silo is shut down; the {_operation} write was not accepted.");
        }
        return pending.Completion.Task;
    }

    /// <summary>Stops taking items and waits until everything already queued is committed or failed.</summary>
    public Task DrainAsync()
    {
        _channel.Writer.TryComplete();
        return Task.WhenAll(_writers);
    }

    private async Task WriteLoop()
    {
        var reader = _channel.Reader;
        var batch = new List<Pending>(_maxBatch);
        var items = new List<TItem>(_maxBatch);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < _maxBatch && reader.TryRead(out var pending))
            {
                batch.Add(pending);
                items.Add(pending.Item);
            }
            if (batch.Count == 0)
            {
                continue;
            }
            await CommitAsync(batch, items).ConfigureAwait(false);
            batch.Clear();
            items.Clear();
        }
    }

    private async Task CommitAsync(List<Pending> batch, List<TItem> items)
    {
        var started = Stopwatch.GetTimestamp();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var results = await _commit(items, CancellationToken.None).ConfigureAwait(false);
                _metrics.RecordStorageBatch(_operation, batch.Count, Stopwatch.GetElapsedTime(started));
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Completion.TrySetResult(results[i]);
                }
                return;
            }
            catch (StorageUnavailableException error) when (attempt < _retry.Attempts)
            {
                _metrics.RecordStorageError(_operation);
                LogRetry(_logger, _operation, batch.Count, attempt, _retry.Attempts, error.Message);
                await Task.Delay(_retry.DelayBefore(attempt)).ConfigureAwait(false);
            }
            catch (Exception error)
            {
                _metrics.RecordStorageError(_operation);
                var reported = error is StorageUnavailableException
                    ? new StorageUnavailableException($"The store stayed unavailable through {_retry.Attempts} attempts; the {_operation} batch of {batch.Count} was not written: {error.Message}", error)
                    : error;
                LogFailed(_logger, _operation, batch.Count, reported);
                foreach (var pending in batch)
                {
                    pending.Completion.TrySetException(reported);
                }
                return;
            }
        }
    }

    private readonly record struct Pending(TItem Item, TaskCompletionSource<TResult> Completion);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Storage {Operation} batch of {Count} failed (attempt {Attempt} of {Attempts}), retrying: {Reason}")]
    private static partial void LogRetry(ILogger logger, string operation, int count, int attempt, int attempts, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Storage {Operation} batch of {Count} failed; the callers get the error")]
    private static partial void LogFailed(ILogger logger, string operation, int count, Exception error);
}

/// <summary>How often and how patiently a batch is retried while the store is unavailable.</summary>
public sealed record StorageRetryPolicy(int Attempts, TimeSpan FirstDelay)
{
    public TimeSpan DelayBefore(int attempt) => FirstDelay * Math.Pow(2, attempt - 1);
}
