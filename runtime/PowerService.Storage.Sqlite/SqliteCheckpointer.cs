using Microsoft.Data.Sqlite;

namespace PowerService.Storage.Sqlite;

/// <summary>Folds the write-ahead log back into the database file on a connection of its own, so no commit waits for
/// it. SQLite's automatic checkpoint runs inside the commit that crosses its threshold: that commit (and every write
/// queued behind the one writer) then waits while thousands of pages are copied and the file is synced — measured
/// as the longest storage batches (275–311 ms) of a storm. Here the writer never checkpoints; every
/// <see cref="SqliteStorageOptions.CheckpointInterval"/> after a commit, a PASSIVE checkpoint copies what the log holds
/// while the writer goes on appending.
/// <para>The log restarts from its beginning at the first commit that finds every frame copied. Under writes that never
/// pause that does not happen: each pass copies what was there when it began while the writer appends more. Past <see cref="SqliteStorageOptions.WalPagesLimit"/>
/// pages the checkpointer therefore catches up with passes in a row, asks the writer to pause between two transactions,
/// goes on copying while that request waits in the writer's queue (so little is left when it is taken), copies the
/// rest while the writer is paused — at most <see cref="MostPause"/> — and the writer's next commit restarts the log.
/// The restarted log is written over the file from its start; the file keeps its size (the writer sets no journal size
/// limit) until a whole interval passes without a commit, when a TRUNCATE checkpoint that does not wait empties it.
/// A TRUNCATE that waits, and so blocks writes until every reader has left the log (it stalled the writer 200–2,000 ms
/// every few seconds while a storm's outages opened), is left for a log that still grew to four times the limit.</para></summary>
internal sealed class SqliteCheckpointer : IAsyncDisposable
{
    /// <summary>The longest the writer waits for the last pass; a restart that needs more is left for the next tick.</summary>
    private static readonly TimeSpan MostPause = TimeSpan.FromMilliseconds(100);

    /// <summary>Pages (8 MB) the last pass may be left with; the writer is asked to pause only once passes beside it got
    /// this close, or after <see cref="CatchUpPasses"/> of them.</summary>
    private const long CloseEnoughPages = 2_048;

    private const int CatchUpPasses = 5;

    /// <summary>SQLite's default page size, which the provider keeps.</summary>
    private const long PageBytes = 4_096;

    private readonly string _connectionString;
    private readonly string _databaseFile;
    private readonly TimeSpan _busyTimeout;
    private readonly TimeSpan _interval;
    private readonly long _walPagesLimit;
    private readonly Func<Action, Task> _betweenWrites;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _commits;

    /// <param name="betweenWrites">Runs an action on the writer thread between two transactions.</param>
    public SqliteCheckpointer(
        string connectionString, string databaseFile, TimeSpan busyTimeout, TimeSpan interval, long walPagesLimit, Func<Action, Task> betweenWrites)
    {
        _connectionString = connectionString;
        _databaseFile = databaseFile;
        _busyTimeout = busyTimeout;
        _interval = interval;
        _walPagesLimit = walPagesLimit;
        _betweenWrites = betweenWrites;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Called by the writer after each commit: there is something to fold in.</summary>
    public void Committed() => Interlocked.Increment(ref _commits);

    /// <summary>A PASSIVE checkpoint on <paramref name="connection"/>: never waits for a lock.</summary>
    private static WalProgress CopyPassive(SqliteConnection connection) => Checkpoint(connection, "PASSIVE");

    private async Task RunAsync()
    {
        SqliteConnection? connection = null;
        var folded = 0L;
        using var timer = new PeriodicTimer(_interval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                var commits = Volatile.Read(ref _commits);
                if (commits == folded && WalFileBytes() <= _walPagesLimit * PageBytes)
                {
                    continue;
                }
                try
                {
                    connection ??= Open();
                    if (commits == folded)
                    {
                        // A whole interval without a commit: the file a storm's log grew to is given back now (cutting it
                        // at each restart instead stalled the commit after the restart 100–300 ms). Without waiting: a
                        // reader still in the log, or a write that just began, leaves it for the next quiet interval.
                        SetBusyTimeout(connection, TimeSpan.Zero);
                        try
                        {
                            Checkpoint(connection, "TRUNCATE");
                        }
                        finally
                        {
                            SetBusyTimeout(connection, _busyTimeout);
                        }
                        continue;
                    }
                    var wal = CopyPassive(connection);
                    if (wal.Pages > _walPagesLimit)
                    {
                        await BringBackAsync(connection, wal);
                    }
                    folded = commits;
                }
                catch (SqliteException)
                {
                    // Busy or unreachable: the log stays valid and the next tick tries again on a fresh connection.
                    connection?.Dispose();
                    connection = null;
                }
                catch (ObjectDisposedException)
                {
                    // The store is closing: the writer takes no more turns.
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        finally
        {
            connection?.Dispose();
        }
    }

    /// <summary>Gets a log past its limit restarted with the writer paused for the last pass only, or, when readers kept
    /// it from restarting until it reached four times the limit, empties it with a TRUNCATE checkpoint that blocks writes.</summary>
    private async Task BringBackAsync(SqliteConnection connection, WalProgress wal)
    {
        if (wal.Pages > 4 * _walPagesLimit)
        {
            Checkpoint(connection, "TRUNCATE");
            return;
        }
        for (var pass = 0; pass < CatchUpPasses && wal.Uncopied > CloseEnoughPages; pass++)
        {
            wal = CopyPassive(connection);
        }
        var paused = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var resume = new ManualResetEventSlim();
        var pause = _betweenWrites(() =>
        {
            paused.TrySetResult();
            resume.Wait(MostPause);
        });
        try
        {
            while (!paused.Task.IsCompleted && !pause.IsCompleted)
            {
                if (CopyPassive(connection).Uncopied == 0)
                {
                    await Task.WhenAny(paused.Task, pause, Task.Delay(5));
                }
            }
            if (paused.Task.IsCompleted)
            {
                CopyPassive(connection); // nothing is appended meanwhile: this copies the rest
            }
        }
        finally
        {
            resume.Set();
            await pause;
        }
    }

    private static void SetBusyTimeout(SqliteConnection connection, TimeSpan timeout)
    {
        using var pragma = connection.CreateCommand();
        pragma.CommandText = $"PRAGMA busy_timeout = {(long)timeout.TotalMilliseconds}";
        pragma.ExecuteNonQuery();
    }

    private long WalFileBytes()
    {
        var wal = new FileInfo(_databaseFile + "-wal");
        return wal.Exists ? wal.Length : 0;
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            // TRUNCATE waits this long for the writer's lock and the readers; PASSIVE never waits.
            SetBusyTimeout(connection, _busyTimeout);
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private static WalProgress Checkpoint(SqliteConnection connection, string mode)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA wal_checkpoint({mode})";
        using var reader = command.ExecuteReader();
        reader.Read();
        return new WalProgress(reader.GetInt64(1), reader.GetInt64(2)); // (busy, pages in the log, pages copied)
    }

    /// <summary>Stops the loop; may be called more than once (a provider may be disposed twice).</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
    }
}

/// <summary>Pages in the write-ahead log and how many of them are copied into the database file.</summary>
internal readonly record struct WalProgress(long Pages, long Copied)
{
    public long Uncopied => Pages - Copied;
}
