using PowerService.Runtime.Storage;

namespace PowerService.Storage.Sqlite;

/// <summary>The one thread that runs every write transaction, in turn, callers' writes before write-behind ones.
/// SQLite has one writer per database. When the writer was a lock taken by thread-pool continuations, each hand-over
/// waited in the pool's queue behind whatever a storm had queued there: in the 1,000,000-meter storm a dispatcher's
/// write waited 160–413 ms for the lock while each holder's SQLite work took 0–11 ms. A thread of its own starts the
/// next transaction the moment the last one commits. Write-behind gets every fourth turn while callers' writes wait:
/// delayed under load, never starved.</summary>
internal sealed class SqliteWriteQueue
{
    private const int AwaitedTurnsBeforeBackground = 3;

    private readonly Lock _lock = new();
    private readonly Queue<Work> _awaited = new();
    private readonly Queue<Work> _background = new();
    private readonly SemaphoreSlim _ready = new(0);
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _stopping;
    private int _awaitedInARow;
    private Action? _last;

    public SqliteWriteQueue(string databaseName)
    {
        new Thread(Run) { IsBackground = true, Name = $"sqlite writer ({databaseName})" }.Start();
    }

    /// <summary>Runs <paramref name="work"/> on the writer thread; it may block that thread (an import streaming its
    /// rows), never a pool thread.</summary>
    public Task<T> Enqueue<T>(WriteUrgency urgency, Func<T> work, CancellationToken cancellationToken)
    {
        var item = new Work<T>(work, cancellationToken);
        lock (_lock)
        {
            if (_stopping)
            {
                throw new ObjectDisposedException(nameof(SqliteStorageProvider), "The SQLite store is closed; the write was not accepted.");
            }
            (urgency == WriteUrgency.Background ? _background : _awaited).Enqueue(item);
        }
        _ready.Release();
        return item.Task;
    }

    /// <summary>Runs what is queued, then <paramref name="last"/> on the writer thread, and ends the thread.</summary>
    public Task StopAsync(Action last)
    {
        lock (_lock)
        {
            if (_stopping)
            {
                return _stopped.Task;
            }
            _stopping = true;
            _last = last;
        }
        _ready.Release();
        return _stopped.Task;
    }

    // One release per queued item and one for the stop: a wake with nothing queued is the stop.
    private void Run()
    {
        while (true)
        {
            _ready.Wait();
            Work? next;
            lock (_lock)
            {
                next = _awaited.Count + _background.Count > 0 ? Take() : null;
            }
            if (next is not null)
            {
                next.Run();
                continue;
            }
            try
            {
                _last?.Invoke();
                _stopped.TrySetResult();
            }
            catch (Exception error)
            {
                _stopped.TrySetException(error);
            }
            return;
        }
    }

    private Work Take()
    {
        if (_awaited.Count > 0 && (_background.Count == 0 || _awaitedInARow < AwaitedTurnsBeforeBackground))
        {
            _awaitedInARow++;
            return _awaited.Dequeue();
        }
        _awaitedInARow = 0;
        return _background.Dequeue();
    }

    private abstract class Work
    {
        public abstract void Run();
    }

    private sealed class Work<T>(Func<T> work, CancellationToken cancellationToken) : Work
    {
        private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<T> Task => _completion.Task;

        public override void Run()
        {
            if (cancellationToken.IsCancellationRequested)
            {
                _completion.TrySetCanceled(cancellationToken);
                return;
            }
            try
            {
                _completion.TrySetResult(work());
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                _completion.TrySetCanceled(cancellationToken);
            }
            catch (Exception error)
            {
                _completion.TrySetException(error);
            }
        }
    }
}
