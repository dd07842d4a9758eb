using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace PowerService.LoadTests.Harness;

/// <summary>A minimal SignalR client (JSON hub protocol over a real WebSocket), the approach of the API tests'
/// SignalRConnection, because the .NET SignalR client package cannot be restored here. Built for thousands of
/// connections in one process: a small receive buffer that grows only for a large message, and each server message
/// handed to the caller as raw JSON bytes, so the caller reads only what it needs.</summary>
internal sealed class HubClient : IAsyncDisposable
{
    private const byte RecordSeparator = 0x1e;
    private static readonly byte[] Ping = Encoding.UTF8.GetBytes("{\"type\":6}\u001e");
    private static readonly byte[] Completion = Encoding.UTF8.GetBytes("{\"type\":3");

    private readonly ClientWebSocket _socket = new();
    private readonly Action<ReadOnlyMemory<byte>> _onMessage;
    private readonly SemaphoreSlim _sending = new(1, 1);
    private TaskCompletionSource? _invocation;
    private readonly TaskCompletionSource _handshake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _receiving;
    private int _invocationId;

    private HubClient(Action<ReadOnlyMemory<byte>> onMessage) => _onMessage = onMessage;

    /// <summary>Opens the hub at <paramref name="hubUrl"/> (http://…) with <paramref name="token"/> in the query
    /// string, as the browser client does with skipNegotiation; <paramref name="onMessage"/> gets each invocation or
    /// ping the server sends, on the receive loop.</summary>
    public static async Task<HubClient> ConnectAsync(Uri hubUrl, string token, Action<ReadOnlyMemory<byte>> onMessage)
    {
        var client = new HubClient(onMessage);
        client._socket.Options.KeepAliveInterval = TimeSpan.Zero;
        var uri = new UriBuilder(hubUrl) { Scheme = "ws", Query = $"access_token={Uri.EscapeDataString(token)}" }.Uri;
        await client._socket.ConnectAsync(uri, CancellationToken.None);
        client._receiving = client.ReceiveLoop();
        await client.SendAsync(Encoding.UTF8.GetBytes("{\"protocol\":\"json\",\"version\":1}\u001e"));
        await client._handshake.Task.WaitAsync(TimeSpan.FromSeconds(30));
        return client;
    }

    /// <summary>Invokes a hub method and waits for its completion (one invocation at a time per connection).</summary>
    public async Task InvokeAsync(string target, params object[] arguments)
    {
        var id = (++_invocationId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        _invocation = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await SendAsync(JsonSerializer.SerializeToUtf8Bytes(new { type = 1, invocationId = id, target, arguments }).Append(RecordSeparator).ToArray());
        await _invocation.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>Tells the server this client is alive; without a message every 30 s the server drops the connection.</summary>
    public Task PingAsync() => _socket.State == WebSocketState.Open ? SendAsync(Ping) : Task.CompletedTask;

    private async Task SendAsync(byte[] bytes)
    {
        await _sending.WaitAsync();
        try
        {
            await _socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        }
        finally
        {
            _sending.Release();
        }
    }

    private async Task ReceiveLoop()
    {
        var buffer = new byte[4096];
        var length = 0;
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                if (length == buffer.Length)
                {
                    Array.Resize(ref buffer, buffer.Length * 2);
                }
                var result = await _socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }
                length += result.Count;
                if (!result.EndOfMessage)
                {
                    continue;
                }
                var start = 0;
                int end;
                while ((end = Array.IndexOf(buffer, RecordSeparator, start, length - start)) >= 0)
                {
                    Handle(buffer.AsMemory(start, end - start));
                    start = end + 1;
                }
                Buffer.BlockCopy(buffer, start, buffer, 0, length - start);
                length -= start;
            }
        }
        catch (WebSocketException)
        {
            // Closed by the benchmark or the server.
        }
        finally
        {
            _handshake.TrySetException(new InvalidOperationException("The hub closed the connection."));
            _invocation?.TrySetException(new InvalidOperationException("The hub closed the connection."));
        }
    }

    private void Handle(ReadOnlyMemory<byte> record)
    {
        if (!_handshake.Task.IsCompleted)
        {
            if (record.Span.IndexOf("\"error\""u8) >= 0)
            {
                _handshake.TrySetException(new InvalidOperationException("Handshake refused: " + Encoding.UTF8.GetString(record.Span)));
            }
            _handshake.TrySetResult();
            return;
        }
        if (record.Span.StartsWith(Completion))
        {
            if (record.Span.IndexOf("\"error\""u8) >= 0)
            {
                _invocation?.TrySetException(new InvalidOperationException(Encoding.UTF8.GetString(record.Span)));
            }
            _invocation?.TrySetResult();
            return;
        }
        _onMessage(record);
    }

    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            try
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            }
            catch (WebSocketException)
            {
                // Already gone.
            }
        }
        if (_receiving is not null)
        {
            await _receiving.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        _socket.Dispose();
        _sending.Dispose();
    }
}
