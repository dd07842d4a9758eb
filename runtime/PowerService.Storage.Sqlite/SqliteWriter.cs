using System.Globalization;
using Microsoft.Data.Sqlite;

namespace PowerService.Storage.Sqlite;

/// <summary>The one connection every write goes through, with its prepared commands kept for reuse.
/// Not thread-safe: the provider lets one batch at a time use it.</summary>
internal sealed class SqliteWriter : IDisposable
{
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);

    private SqliteWriter(SqliteConnection connection) => Connection = connection;

    public SqliteConnection Connection { get; }

    public static SqliteWriter Open(string connectionString, TimeSpan busyTimeout, int cacheMegabytes, SqliteSynchronous synchronous)
    {
        var connection = new SqliteConnection(connectionString);
        try
        {
            connection.Open();
            // WAL lets readers run beside the writer; FULL syncs the log at every commit (NORMAL only at checkpoints,
            // which keeps the file consistent but can lose the last commits with the machine's power).
            // The writer never checkpoints and never cuts the log's file (SqliteCheckpointer does both, beside it).
            using var pragmas = connection.CreateCommand();
            pragmas.CommandText = string.Create(CultureInfo.InvariantCulture,
                $"PRAGMA busy_timeout = {(long)busyTimeout.TotalMilliseconds}; PRAGMA journal_mode = WAL; PRAGMA synchronous = {(synchronous == SqliteSynchronous.Full ? "FULL" : "NORMAL")}; PRAGMA cache_size = {-1024L * cacheMegabytes}; PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = -1;");
            pragmas.ExecuteNonQuery();
            return new SqliteWriter(connection);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>The prepared command for <paramref name="sql"/>, enlisted in <paramref name="transaction"/>. Its
    /// parameters are created once from <paramref name="parameterNames"/>; callers rebind their values per row.</summary>
    public SqliteCommand Command(string sql, SqliteTransaction transaction, params ReadOnlySpan<string> parameterNames)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = Connection.CreateCommand();
            command.CommandText = sql;
            foreach (var name in parameterNames)
            {
                command.Parameters.Add(new SqliteParameter(name, DBNull.Value));
            }
            command.Transaction = transaction;
            command.Prepare();
            _commands.Add(sql, command);
        }
        command.Transaction = transaction;
        return command;
    }

    public void Dispose()
    {
        foreach (var command in _commands.Values)
        {
            command.Dispose();
        }
        _commands.Clear();
        Connection.Dispose();
    }
}
