// Produces stdin's lines (`key<TAB>value`) to a topic with Kafka's own Java client and the
// given compression.type, so tests read record batches exactly as a JVM producer (Kafka
// Connect, Debezium) writes them.
// Usage: java -cp '.cache/kafka/libs/*' CompressedProducer.java <brokers> <topic> <codec>
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

public class CompressedProducer {
  public static void main(String[] args) throws Exception {
    Properties props = new Properties();
    props.put("bootstrap.servers", args[0]);
    props.put("compression.type", args[2]);
    props.put("acks", "all");
    // Many records per batch, so each batch really is compressed as a whole.
    props.put("linger.ms", "50");
    props.put("batch.size", "262144");
    props.put("key.serializer", StringSerializer.class.getName());
    props.put("value.serializer", StringSerializer.class.getName());
    var in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    int sent = 0;
    try (var producer = new KafkaProducer<String, String>(props)) {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        int tab = line.indexOf('\t');
        producer.send(new ProducerRecord<>(args[1], line.substring(0, tab), line.substring(tab + 1)));
        sent++;
      }
      producer.flush();
    }
    System.out.println(sent);
  }
}
