using System.Text.Json;

namespace PowerService.Grains.Tests.Notices;

/// <summary>One line the file-backed channel wrote: what a customer received.</summary>
public sealed record DeliveredNotice(string Channel, string DeduplicationKey, string Recipient, string CustomerId, string OutageId, string Kind, string Text);

/// <summary>Reads what the file-backed channels wrote, as a customer's phone or app would show it.</summary>
public static class NoticeFiles
{
    public static IReadOnlyList<DeliveredNotice> Read(string folder)
    {
        if (!Directory.Exists(folder))
        {
            return [];
        }
        var notices = new List<DeliveredNotice>();
        foreach (var file in Directory.GetFiles(folder, "*.jsonl"))
        {
            string text;
            using (var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
            using (var reader = new StreamReader(stream))
            {
                text = reader.ReadToEnd();
            }
            // Lines end with '\n'; what follows the last one is a line the channel is still writing.
            var lines = text.Split('\n');
            foreach (var line in lines[..^1])
            {
                using var json = JsonDocument.Parse(line);
                var root = json.RootElement;
                var notice = root.GetProperty("notice");
                notices.Add(new DeliveredNotice(
                    root.GetProperty("channel").GetString()!, root.GetProperty("dedupKey").GetString()!, root.GetProperty("recipient").GetString()!,
                    notice.GetProperty("customerId").GetString()!, notice.GetProperty("outageId").GetString()!,
                    notice.GetProperty("kind").GetString()!, notice.GetProperty("text").GetString()!));
            }
        }
        return notices;
    }
}
