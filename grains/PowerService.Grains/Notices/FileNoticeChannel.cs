using System.Text;
using System.Text.Json;

namespace PowerService.Grains.Notices;

/// <summary>A channel for local use and tests: appends each notice as one JSON line to <c>{folder}/{channel}.jsonl</c>
/// (<c>messageId</c>, <c>dedupKey</c>, <c>channel</c>, <c>recipient</c>, <c>notice</c>). Like an SMS gateway that takes
/// a client message id, it writes a deduplication key once: a message handed over again after a crash (written, not
/// yet marked delivered) is reported delivered without a second line. The keys already written are read from the file
/// on first use (about 100 bytes of memory per line); a line cut short by a crash is skipped, and rewritten whole.</summary>
internal sealed class FileNoticeChannel(string name, string folder) : INoticeChannel, IDisposable
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private HashSet<string>? _written;

    public string Name { get; } = name;

    public string FilePath { get; } = Path.Combine(folder, name + ".jsonl");

    /// <summary>Creates the folder and writes and deletes a probe file in it: a folder the silo cannot write (a read-only
    /// mount, a mistyped path) stops the start with its name, instead of every notice failing, retried each lease, with
    /// a warning in the log.</summary>
    public void CheckWritable()
    {
        var probe = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(FilePath))!, $".{Name}.probe");
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(probe)!);
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException(
                $"The notice folder (Workflow:Notices:Folder) '{Path.GetDirectoryName(probe)}' cannot be written for the {Name} channel: {error.Message}", error);
        }
    }

    public async Task<NoticeDeliveryReport> DeliverAsync(IReadOnlyList<NoticeMessage> batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        await _lock.WaitAsync(cancellationToken);
        try
        {
            var written = _written ??= await OpenAsync(cancellationToken);
            var lines = new StringBuilder();
            var added = new HashSet<string>(StringComparer.Ordinal);
            foreach (var message in batch)
            {
                if (!written.Contains(message.DeduplicationKey) && added.Add(message.DeduplicationKey))
                {
                    lines.Append(Line(message)).Append('\n');
                }
            }
            if (lines.Length > 0)
            {
                await using var file = new FileStream(FilePath, FileMode.Append, FileAccess.Write, FileShare.Read, 1 << 16, useAsync: true);
                await file.WriteAsync(Encoding.UTF8.GetBytes(lines.ToString()), cancellationToken);
                // On disk before the outbox hears "delivered": otherwise a crash could lose a line the outbox no longer holds.
                file.Flush(flushToDisk: true);
                written.UnionWith(added);
            }
            return new NoticeDeliveryReport([.. batch.Select(m => m.Id)], []);
        }
        finally
        {
            _lock.Release();
        }
    }

    private async Task<HashSet<string>> OpenAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(FilePath))!);
        var written = new HashSet<string>(StringComparer.Ordinal);
        if (!File.Exists(FilePath))
        {
            return written;
        }
        var text = await File.ReadAllLinesAsync(FilePath, Encoding.UTF8, cancellationToken);
        foreach (var line in text)
        {
            if (DeduplicationKeyOf(line) is { } key)
            {
                written.Add(key);
            }
        }
        await EndWithNewLineAsync(cancellationToken);
        return written;
    }

    /// <summary>A crash in the middle of a write leaves a last line without its end; the next line must not join it.</summary>
    private async Task EndWithNewLineAsync(CancellationToken cancellationToken)
    {
        await using var file = new FileStream(FilePath, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        if (file.Length == 0)
        {
            return;
        }
        file.Seek(-1, SeekOrigin.End);
        if (file.ReadByte() != '\n')
        {
            await file.WriteAsync("\n"u8.ToArray(), cancellationToken);
        }
    }

    private static string? DeduplicationKeyOf(string line)
    {
        try
        {
            using var json = JsonDocument.Parse(line);
            return json.RootElement.TryGetProperty("dedupKey", out var key) ? key.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private string Line(NoticeMessage message)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteNumber("messageId", message.Id);
            json.WriteString("dedupKey", message.DeduplicationKey);
            json.WriteString("channel", Name);
            json.WriteString("recipient", message.Recipient);
            json.WritePropertyName("notice");
            json.WriteRawValue(message.PayloadJson);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public void Dispose() => _lock.Dispose();
}
