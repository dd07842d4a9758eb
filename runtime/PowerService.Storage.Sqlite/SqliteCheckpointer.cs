using Microsoft.Data.Sqlite;

namespace PowerService.Storage.Sqlite;

/// <summary>Folds the write-ahead log back into the database file on a connection of its own, so no commit waits for
/// it. SQLite's automatic checkpoint runs inside the commit that crosses its threshold: that commit (and every write
/// queued behind the one writer) then waits while thousands of pages are copied and the file is synced — measured
/// as the longest storage batches (275–311 ms) of a storm. Here the writer never checkpoints; every
/// <see cref="SqliteStorageOptions.CheckpointInterval"/> after a commit, a PASSIVE checkpoint copies what the log holds
/// while the writer goes on appending. If writes never pause long enough for the log to be copied whole, it is not
/// restarted and keeps growing; past <see cref="SqliteStorageOptions.WalPagesLimit"/> pages one TRUNCATE checkpoint
/// waits for the writer and empties it (a stall as the automatic checkpoint had, but rare).</summary>
internal sealed class SqliteCheckpointer : IAsyncDisposable
{
    private readonly string _connectionString;
    private readonly TimeSpan _busyTimeout;
    private readonly TimeSpan _interval;
    private readonly long _walPagesLimit;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _commits;

    public SqliteCheckpointer(string connectionString, TimeSpan busyTimeout, TimeSpan interval, long walPagesLimit)
    {
        _connectionString = connectionString;
        _busyTimeout = busyTimeout;
        _interval = interval;
        _walPagesLimit = walPagesLimit;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Called by the writer after each commit: there is something to fold in.</summary>
    public void Committed() => Interlocked.Increment(ref _commits);

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
                if (commits == folded)
                {
                    continue;
                }
                try
                {
                    connection ??= Open();
                    var log = Checkpoint(connection, "PASSIVE");
                    if (log > _walPagesLimit)
                    {
                        Checkpoint(connection, "TRUNCATE");
                    }
                    folded = commits;
                }
                catch (SqliteException)
                {
                    // Busy or unreachable: the log stays valid and the next tick tries again on a fresh connection.
                    connection?.Dispose();
                    connection = null;
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

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            // TRUNCATE waits this long for the writer's lock; PASSIVE never waits.
            using var pragma = connection.CreateCommand();
            pragma.CommandText = $"PRAGMA busy_timeout = {(long)_busyTimeout.TotalMilliseconds}";
            pragma.ExecuteNonQuery();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private static long Checkpoint(SqliteConnection connection, string mode)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA wal_checkpoint({mode})";
        using var reader = command.ExecuteReader();
        reader.Read();
        return reader.GetInt64(1); // (busy, pages in the log, pages copied)
    }

    /// <summary>Stops the loop; may be called more than once (a provider may be disposed twice).</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
    }
}
